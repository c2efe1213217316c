/**
 * Writing stored files and directories back into the workspace. Every byte is verified against
 * its id while it is copied, and the result replaces what was at the destination only once it is
 * complete.
 */
import { randomUUID } from "node:crypto";
import { lstat, mkdir, open, readFile, rename, rm, symlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { LatheError } from "../errors";
import type { Workspace } from "../workspace";
import { hashBytes, hashFileWith } from "./hash";
import { objectPath } from "./objects";
import { corruptObject, objectType, openObject } from "./store";
import { childPath, parseTree, type DiskPath, type EntryMode, type PathHash } from "./tree";

export interface RestoreOptions {
  /** For a file: set its executable bit (git's 100755), as the run cache recorded it. */
  executable?: boolean;
}

/**
 * Writes the stored file or directory `oid` to `abs` (copying; its parent folders are created),
 * replacing whatever was there. A directory is rebuilt exactly: files not in the tree are gone
 * afterwards. Throws LATHE_NOT_FOUND for a missing object and LATHE_CORRUPT for a damaged one,
 * leaving `abs` as it was.
 */
export async function restorePath(
  ws: Workspace,
  oid: string,
  abs: string,
  options: RestoreOptions = {},
): Promise<PathHash> {
  const type = await objectType(ws, oid);
  await mkdir(dirname(abs), { recursive: true });
  const temp = join(dirname(abs), `.${basename(abs)}.${randomUUID()}.lathe-tmp`);

  try {
    // A blob has no mode of its own (a tree records its entries' modes): the caller says it.
    const mode: EntryMode = options.executable ? "100755" : "100644";
    const result =
      type === "blob"
        ? { ...(await restoreBlob(ws, oid, temp, mode)), files: 1, kind: "file" as const }
        : { ...(await restoreTree(ws, oid, temp)), kind: "dir" as const };
    await replaceWith(temp, abs);
    return { oid, size: result.size, files: result.files, kind: result.kind };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

async function replaceWith(temp: string, abs: string): Promise<void> {
  const existing = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") {
      return undefined; // Nothing to replace.
    }
    throw err;
  });
  // rename replaces a file atomically but refuses a non-empty directory.
  if (existing?.isDirectory()) {
    await rm(abs, { recursive: true, force: true });
  }
  await rename(temp, abs);
}

async function restoreBlob(
  ws: Workspace,
  oid: string,
  dest: DiskPath,
  mode: EntryMode,
): Promise<{ size: number }> {
  await (await openObject(ws, oid)).close(); // LATHE_NOT_FOUND, with its message, if missing.
  const out = await open(dest, "wx", mode === "100755" ? 0o755 : 0o644);
  try {
    const blob = await hashFileWith(objectPath(ws, oid), (chunk) => out.write(chunk));
    if (blob.oid !== oid) {
      throw corruptObject(ws, oid);
    }
    return { size: blob.size };
  } finally {
    await out.close();
  }
}

async function restoreTree(
  ws: Workspace,
  oid: string,
  dest: DiskPath,
): Promise<{ size: number; files: number }> {
  const entries = parseTree(await readVerified(ws, oid, "tree"), oid);
  await mkdir(dest);
  let size = 0;
  let files = 0;

  for (const entry of entries) {
    checkEntryName(entry.name, oid);
    const target = childPath(dest, entry.name);
    if (entry.mode === "40000") {
      const sub = await restoreTree(ws, entry.oid, target);
      size += sub.size;
      files += sub.files;
      continue;
    }
    if (entry.mode === "120000") {
      const link = await readVerified(ws, entry.oid, "blob");
      await symlink(link, target);
      size += link.length;
    } else {
      size += (await restoreBlob(ws, entry.oid, target, entry.mode)).size;
    }
    files += 1;
  }
  return { size, files };
}

/** A small object's bytes (a tree body or a symlink target), checked against its id. */
async function readVerified(ws: Workspace, oid: string, type: "blob" | "tree"): Promise<Buffer> {
  const fh = await openObject(ws, oid);
  let body: Buffer;
  try {
    body = await readFile(fh);
  } finally {
    await fh.close();
  }
  if (hashBytes(type, body) !== oid) {
    throw corruptObject(ws, oid);
  }
  return body;
}

/** A tree that hashes right can still be hand-made: never let one of its names leave `dest`. */
function checkEntryName(name: Buffer, treeOid: string): void {
  const text = name.toString("utf8");
  const isSafe =
    name.length > 0 && text !== "." && text !== ".." && !name.includes(0x2f) && !name.includes(0);
  if (!isSafe) {
    throw new LatheError(
      "LATHE_CORRUPT",
      `Tree ${treeOid} has an entry named '${text}', which is not a plain file name; refusing to restore it.`,
      { oid: treeOid, name: text },
    );
  }
}
