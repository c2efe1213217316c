/**
 * Git tree objects as a SHA-256 repository writes them: entry modes, git's sort order, the binary
 * encoding, and the one directory walk that hashing and storing share (DESIGN.md "Identity of
 * data").
 */
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { LatheError } from "../errors";

export type EntryMode = "100644" | "100755" | "120000" | "40000";

export interface TreeEntry {
  mode: EntryMode;
  /** The name's bytes, as git keeps them: any bytes but "/" and NUL, UTF-8 or not. */
  name: Buffer;
  oid: string;
}

/**
 * A path on disk. A string while every name on it is UTF-8; bytes once one is not, since Node
 * cannot name such a file by a string (the fs functions take either).
 */
export type DiskPath = string | Buffer;

/** `dir/name` as a DiskPath: a string when both parts are UTF-8, bytes otherwise. */
export function childPath(dir: DiskPath, name: Buffer): DiskPath {
  const text = name.toString("utf8");
  if (typeof dir === "string" && Buffer.from(text).equals(name)) {
    return join(dir, text);
  }
  const base = typeof dir === "string" ? Buffer.from(dir) : dir;
  const sep = base[base.length - 1] === 0x2f ? [] : [Buffer.from("/")];
  return Buffer.concat([base, ...sep, name]);
}

/** A DiskPath for messages (bytes that are not UTF-8 show as U+FFFD). */
export function showPath(path: DiskPath): string {
  return typeof path === "string" ? path : path.toString("utf8");
}

/** What hashPath, storePath and restorePath report for a file or a directory. */
export interface PathHash {
  oid: string;
  /** Bytes of every blob (regular files and symlink targets) under the path. */
  size: number;
  /** Number of blobs (regular files and symlinks) under the path; 1 for a file. */
  files: number;
  kind: "file" | "dir";
}

/**
 * Where the walk sends what it finds. Hashing only computes ids; storing also copies the bytes
 * into the content store.
 */
export interface ObjectSink {
  /** A regular file's bytes as a blob. */
  file(abs: DiskPath): Promise<{ oid: string; size: number }>;
  /** A small object held in memory: a symlink's target (blob) or a tree body. */
  bytes(type: "blob" | "tree", body: Buffer): Promise<string>;
}

/** Names never hashed or stored inside a directory: Lathe's state and git's. */
const skippedNames = new Set([".lathe", ".git"].map((n) => Buffer.from(n).toString("hex")));

const OID_BYTES = 32;
const modes: readonly string[] = ["100644", "100755", "120000", "40000"];

/** Hashes (through `sink`) the file or directory at `abs`; a symlink at `abs` itself is followed. */
export async function walkPath(abs: string, sink: ObjectSink): Promise<PathHash> {
  const st = await statOrThrow(abs);
  if (st.isFile()) {
    const { oid, size } = await sink.file(abs);
    return { oid, size, files: 1, kind: "file" };
  }
  if (st.isDirectory()) {
    const tree = await walkDir(abs, sink);
    return { oid: tree.oid, size: tree.size, files: tree.files, kind: "dir" };
  }
  throw new LatheError("LATHE_BAD_INPUT", `${abs} is neither a file nor a directory.`, {
    path: abs,
  });
}

interface DirResult {
  oid: string;
  size: number;
  files: number;
  entries: number;
}

async function walkDir(dir: DiskPath, sink: ObjectSink): Promise<DirResult> {
  const raw = await readdir(dir, { encoding: "buffer" });
  const names = raw.filter((n) => !skippedNames.has(n.toString("hex")));
  const entries: TreeEntry[] = [];
  let size = 0;
  let files = 0;

  for (const name of names) {
    const abs = childPath(dir, name);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      const sub = await walkDir(abs, sink);
      // git records no empty directories, so neither do we.
      if (sub.entries > 0) {
        entries.push({ mode: "40000", name, oid: sub.oid });
        size += sub.size;
        files += sub.files;
      }
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs, { encoding: "buffer" });
      entries.push({ mode: "120000", name, oid: await sink.bytes("blob", target) });
      size += target.length;
      files += 1;
    } else if (st.isFile()) {
      const blob = await sink.file(abs);
      const mode = st.mode & 0o100 ? "100755" : "100644";
      entries.push({ mode, name, oid: blob.oid });
      size += blob.size;
      files += 1;
    } else {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `${showPath(abs)} is a socket, FIFO or device; only files, directories and symlinks can be versioned.`,
        { path: showPath(abs) },
      );
    }
  }

  const oid = await sink.bytes("tree", encodeTree(entries));
  return { oid, size, files, entries: entries.length };
}

async function statOrThrow(abs: string): Promise<Awaited<ReturnType<typeof stat>>> {
  try {
    return await stat(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new LatheError("LATHE_NOT_FOUND", `${abs} does not exist.`, { path: abs });
    }
    throw err;
  }
}

/**
 * git's tree order: names compared as bytes, a subtree's name as if it ended in "/" (so `a.b`
 * sorts before the directory `a`, which sorts before `a0`).
 */
export function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  const slash = Buffer.from("/");
  const key = (e: TreeEntry): Buffer =>
    e.mode === "40000" ? Buffer.concat([e.name, slash]) : e.name;
  return [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
}

/** The body of a tree object (without the `tree <size>\0` header): `<mode> <name>\0<raw id>`. */
export function encodeTree(entries: TreeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of sortEntries(entries)) {
    parts.push(Buffer.from(`${e.mode} `), e.name, Buffer.from([0]), Buffer.from(e.oid, "hex"));
  }
  return Buffer.concat(parts);
}

/** Parses a tree body; `oid` names the object in the error when the bytes are not a tree. */
export function parseTree(body: Buffer, oid: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const nul = space < 0 ? -1 : body.indexOf(0, space);
    const mode = space < 0 ? "" : body.toString("latin1", at, space);
    if (nul < 0 || !modes.includes(mode) || nul + 1 + OID_BYTES > body.length) {
      throw new LatheError("LATHE_CORRUPT", `Object ${oid} is not a valid tree (at byte ${at}).`, {
        oid,
        offset: at,
      });
    }
    const name = Buffer.from(body.subarray(space + 1, nul));
    const entryOid = body.toString("hex", nul + 1, nul + 1 + OID_BYTES);
    entries.push({ mode: mode as EntryMode, name, oid: entryOid });
    at = nul + 1 + OID_BYTES;
  }
  return entries;
}

/** True when `prefix` (the first bytes of an object) could start a non-empty tree body. */
export function looksLikeTree(prefix: Buffer): boolean {
  const text = prefix.toString("latin1");
  return modes.some((mode) => text.startsWith(`${mode} `));
}
