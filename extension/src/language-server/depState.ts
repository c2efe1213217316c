/**
 * What a hover says about a dep's identity: its id as lathe.lock recorded it for the stage, the
 * id of a pointer file (`<dep>.lathe`) when the dep is versioned data, and whether the file
 * changed since the stage last ran; and the lock entries and current ids the stage-state code
 * lenses compare (staleness.ts). The server loads no native module, so ids are computed here
 * with node:crypto, as git's SHA-256 blob and tree ids (DESIGN.md), the daemon's
 * (daemon/src/data/tree.ts encodes the trees). Ids are cached by the file's stat, lathe.lock's
 * parse by its stat. A request reads at most BUDGET's files and hashes at most its bytes (files
 * whose id is cached cost a stat only), and no file past MAX_HASH_BYTES: what lies beyond is not
 * re-hashed here (`lathe status --pipeline` does it), so a keystroke's work stays bounded.
 */
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { LockEntry } from "../../../daemon/src/pipeline/lock";
import {
  childPath,
  encodeTree,
  type DiskPath,
  type TreeEntry,
} from "../../../daemon/src/data/tree";

const MAX_HASH_BYTES = 8 * 1024 * 1024;
/** Per request: files looked at inside folders, and bytes hashed (not found in the cache). */
const BUDGET = { files: 2000, bytes: 32 * 1024 * 1024 };
/** Lathe's state and git's, which the daemon never hashes inside a folder. */
const SKIPPED_NAMES = new Set([".lathe", ".git"]);

interface Stamped<T> {
  stamp: string;
  value: T;
}

const locks = new Map<string, Stamped<LockStages | undefined>>();
const blobIds = new Map<string, Stamped<string>>();

/** lathe.lock's entries as written (a hand-edited lock may lack fields). */
export type LockStages = Record<string, Partial<LockEntry> | undefined>;

/** Markdown lines about the dep `wsPath` of `stage`; empty when nothing is known. */
export function depFacts(root: string, stage: string, wsPath: string): string[] {
  const lines: string[] = [];
  const pointer = pointerOid(root, wsPath);
  if (pointer) {
    lines.push(`versioned as \`${short(pointer)}\` (${wsPath}.lathe)`);
  }
  const lock = lockStages(root);
  if (!lock) {
    return lines; // Nothing ran yet: nothing to compare with.
  }
  const locked = lock[stage]?.deps?.find((d) => d.path === wsPath)?.oid;
  if (!locked) {
    lines.push(`not in lathe.lock: stage '${stage}' has not run with it yet`);
    return lines;
  }
  const now = new IdReader(root).id(wsPath);
  if (now === undefined) {
    lines.push(`id \`${short(locked)}\` in lathe.lock (not re-hashed here)`);
  } else if (now === null) {
    lines.push(`id \`${short(locked)}\` in lathe.lock; **missing** now: stage '${stage}' is stale`);
  } else if (now === locked) {
    lines.push(`id \`${short(locked)}\`, unchanged since stage '${stage}' last ran`);
  } else {
    lines.push(
      `id \`${short(now)}\`; **changed** since stage '${stage}' last ran (\`${short(locked)}\`): it is stale`,
    );
  }
  return lines;
}

function short(oid: string): string {
  return oid.slice(0, 12);
}

function stampOf(abs: string): string | undefined {
  const st = statSync(abs, { throwIfNoEntry: false });
  return st?.isFile() ? `${st.mtimeMs}:${st.size}:${st.ino}` : undefined;
}

/** lathe.lock's stages; undefined when there is no lock (nothing ran yet) or it does not parse. */
export function lockStages(root: string): LockStages | undefined {
  const abs = join(root, "lathe.lock");
  const stamp = stampOf(abs);
  if (!stamp) {
    return undefined;
  }
  const cached = locks.get(abs);
  if (cached?.stamp === stamp) {
    return cached.value;
  }
  let value: LockStages | undefined;
  try {
    value = (parse(readFileSync(abs, "utf8")) as { stages?: LockStages } | null)?.stages;
  } catch {
    value = undefined; // A broken lock: `lathe repro` reports it; the hover just knows less.
  }
  locks.set(abs, { stamp, value });
  return value;
}

function pointerOid(root: string, wsPath: string): string | undefined {
  try {
    const text = readFileSync(join(root, `${wsPath}.lathe`), "utf8");
    return /^oid:\s*([0-9a-f]{64})\s*$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Ids of deps and outs as the daemon computes them, for one request: each path read once, within
 * one budget of files and bytes.
 */
export class IdReader {
  private readonly ids = new Map<string, string | null | undefined>();
  private readonly left = { ...BUDGET };

  constructor(private readonly root: string) {}

  /** null when the path is missing; undefined when it is not re-hashed here (see above). */
  id(wsPath: string): string | null | undefined {
    if (!this.ids.has(wsPath)) {
      this.ids.set(wsPath, this.read(wsPath));
    }
    return this.ids.get(wsPath);
  }

  private read(wsPath: string): string | null | undefined {
    const abs = join(this.root, wsPath);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) {
      return null;
    }
    if (st.isDirectory()) {
      return this.treeId(abs);
    }
    return st.isFile() ? this.blobId(abs, st) : undefined;
  }

  /** A file's blob id; undefined past MAX_HASH_BYTES or the bytes left to hash. */
  private blobId(abs: DiskPath, st: Stats): string | undefined {
    const key = typeof abs === "string" ? abs : abs.toString("hex");
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    const cached = blobIds.get(key);
    if (cached?.stamp === stamp) {
      return cached.value;
    }
    this.left.bytes -= st.size;
    if (st.size > MAX_HASH_BYTES || this.left.bytes < 0) {
      return undefined;
    }
    const oid = objectId("blob", readFileSync(abs));
    blobIds.set(key, { stamp, value: oid });
    return oid;
  }

  /** A folder's tree id (empty folders inside left out, as git does); undefined past the budget. */
  private treeId(dir: DiskPath): string | undefined {
    if (this.left.files <= 0) {
      return undefined;
    }
    const entries: TreeEntry[] = [];
    for (const name of readdirSync(dir, { encoding: "buffer" })) {
      if (SKIPPED_NAMES.has(name.toString("latin1"))) {
        continue;
      }
      const abs = childPath(dir, name);
      this.left.files -= 1;
      if (this.left.files < 0) {
        return undefined;
      }
      const entry = this.entry(abs, name, lstatSync(abs));
      if (entry === undefined) {
        return undefined;
      }
      if (entry !== null) {
        entries.push(entry);
      }
    }
    return objectId("tree", encodeTree(entries));
  }

  /** The tree entry of one name in a folder; null for an empty folder (git records none). */
  private entry(abs: DiskPath, name: Buffer, st: Stats): TreeEntry | null | undefined {
    if (st.isDirectory()) {
      const oid = this.treeId(abs);
      if (oid === undefined) {
        return undefined;
      }
      return oid === EMPTY_TREE ? null : { mode: "40000", name, oid };
    }
    if (st.isSymbolicLink()) {
      const target = readlinkSync(abs, { encoding: "buffer" });
      return { mode: "120000", name, oid: objectId("blob", target) };
    }
    const oid = st.isFile() ? this.blobId(abs, st) : undefined; // The daemon refuses a socket.
    return oid === undefined
      ? undefined
      : { mode: st.mode & 0o100 ? "100755" : "100644", name, oid };
  }
}

function objectId(type: "blob" | "tree", body: Buffer): string {
  return createHash("sha256").update(`${type} ${body.length}\0`).update(body).digest("hex");
}

/** The id of a tree with no entries. */
const EMPTY_TREE = objectId("tree", Buffer.alloc(0));
