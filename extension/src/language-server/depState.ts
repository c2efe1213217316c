/**
 * What a hover says about a dep's identity: its id as lathe.lock recorded it for the stage, the
 * id of a pointer file (`<dep>.lathe`) when the dep is versioned data, and whether the file
 * changed since the stage last ran. The server loads no native module, so the id of a file is
 * computed here with node:crypto, as git's SHA-256 blob id (DESIGN.md); folders and files past
 * MAX_HASH_BYTES are not re-hashed on hover (`lathe status --pipeline` does that).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const MAX_HASH_BYTES = 8 * 1024 * 1024;

interface Stamped<T> {
  stamp: string;
  value: T;
}

const locks = new Map<string, Stamped<LockStages | undefined>>();
const blobIds = new Map<string, Stamped<string>>();

type LockStages = Record<string, { deps?: { path: string; oid: string }[] } | undefined>;

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
  const now = currentId(root, wsPath);
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

function lockStages(root: string): LockStages | undefined {
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

/** The file's blob id; null when it is missing; undefined for a folder or a large file. */
function currentId(root: string, wsPath: string): string | null | undefined {
  const abs = join(root, wsPath);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) {
    return null;
  }
  if (!st.isFile() || st.size > MAX_HASH_BYTES) {
    return undefined;
  }
  const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
  const cached = blobIds.get(abs);
  if (cached?.stamp === stamp) {
    return cached.value;
  }
  const body = readFileSync(abs);
  const oid = createHash("sha256").update(`blob ${body.length}\0`).update(body).digest("hex");
  blobIds.set(abs, { stamp, value: oid });
  return oid;
}
