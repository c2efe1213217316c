/**
 * Parsed YAML kept between processes: `yaml` needs about 2 ms per 10 KB, so a no-op repro of a
 * 100-stage pipeline spent most of its time parsing lathe.yaml, params.yaml and lathe.lock again.
 * A parse result is stored in `.lathe/parsed/` with the stat (size, mtime, ctime, inode, in
 * nanoseconds) of every file it read, and used again while all of them still match, as the hash
 * cache does for file ids. A file changed within RACY_MS is not cached (git's racy entries), nor
 * is a value JSON would not give back as it was. Nothing is written where there is no `.lathe/`.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const RACY_MS = 2000;
/**
 * Bump when a cached shape changes, so old entries are ignored. 2: the parser refuses outputs on
 * Lathe's, git's or the pipeline's own files, so pipelines parsed before must be checked again.
 */
const FORMAT = 2;

type Signature = Record<string, string | null>;

interface Entry<T> {
  format: number;
  sig: Signature;
  value: T;
}

/** What `compute` read, to sign the result with. */
export interface Reads {
  /** Records that `path` (absolute) was read, or found missing. */
  read(path: string): void;
}

/**
 * `compute()`'s result for `key` in the workspace at `root`, from the cache when every file it
 * read last time is unchanged. `compute` reports the files it reads through `reads`; `files` are
 * read in any case. Errors are never cached.
 */
export function cachedParse<T>(
  root: string,
  key: string,
  files: string[],
  compute: (reads: Reads) => T,
): T {
  const path = join(
    root,
    ".lathe",
    "parsed",
    `${createHash("sha1").update(key).digest("hex")}.json`,
  );
  const hit = readEntry<T>(path);
  if (hit && matches(hit.sig)) {
    return hit.value;
  }
  const readPaths = new Set(files);
  const value = compute({ read: (p) => readPaths.add(p) });
  const sig = signature([...readPaths]);
  if (sig && existsSync(join(root, ".lathe")) && isJsonSafe(value)) {
    writeEntry(path, { format: FORMAT, sig, value });
  }
  return value;
}

/** True when JSON gives the value back as it is (YAML's .inf and .nan would come back null). */
function isJsonSafe(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") {
    return true;
  }
  if (typeof value === "number") {
    return Number.isFinite(value);
  }
  if (Array.isArray(value)) {
    return value.every((v) => v !== undefined && isJsonSafe(v));
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      return false;
    }
    return Object.values(value).every((v) => v === undefined || isJsonSafe(v));
  }
  return false;
}

function readEntry<T>(path: string): Entry<T> | undefined {
  try {
    const entry = JSON.parse(readFileSync(path, "utf8")) as Entry<T>;
    return entry.format === FORMAT ? entry : undefined;
  } catch {
    return undefined; // Missing or torn: parse again.
  }
}

function matches(sig: Signature): boolean {
  return Object.entries(sig).every(([file, was]) => statKey(file)?.key === (was ?? undefined));
}

/** The files' stat keys, or undefined when one changed too recently to be trusted. */
function signature(files: string[]): Signature | undefined {
  const sig: Signature = {};
  const now = Date.now();
  for (const file of files) {
    const st = statKey(file);
    if (st && now - st.mtimeMs < RACY_MS) {
      return undefined;
    }
    sig[file] = st?.key ?? null;
  }
  return sig;
}

function statKey(file: string): { key: string; mtimeMs: number } | undefined {
  try {
    const st = statSync(file, { bigint: true });
    const key = `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
    return { key, mtimeMs: Number(st.mtimeMs) };
  } catch {
    return undefined;
  }
}

function writeEntry<T>(path: string, entry: Entry<T>): void {
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    const temp = `${path}.${randomUUID()}.tmp`;
    writeFileSync(temp, JSON.stringify(entry));
    renameSync(temp, path);
  } catch {
    // A read-only workspace still works, only slower.
  }
}
