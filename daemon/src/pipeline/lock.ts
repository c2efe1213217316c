/**
 * lathe.lock: what each stage last ran with (cmd, dep ids, param values, out ids), in YAML like
 * dvc.lock. A stage is stale when any of those differ from now. Written atomically after every
 * successful stage, so a later failure keeps the entries of the stages before it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isNode, LineCounter, parse, parseDocument, stringify, type Node } from "yaml";
import { LatheError } from "../errors";
import type { StageReason } from "../../../schemas/api";
import type { StageParams } from "./params";
import { cachedParse } from "./parsecache";
import { notValidYaml } from "./spec";
import { LOCK_FILE } from "./reserved";

export { LOCK_FILE };

export interface LockedPath {
  path: string;
  oid: string;
  size?: number;
  files?: number;
  /** A file out with its executable bit set (git's 100755); a restore sets it again. */
  executable?: boolean;
}

export interface LockEntry {
  cmd: string;
  /** The stage's `env:`, when it has one. */
  env?: Record<string, string>;
  deps: LockedPath[];
  params: StageParams;
  outs: LockedPath[];
}

export interface LockFile {
  schema: string;
  stages: Record<string, LockEntry>;
}

/** What a stage would run with now; out ids are null for outs that do not exist. */
export interface StageState {
  cmd: string;
  env: Record<string, string>;
  deps: LockedPath[];
  params: StageParams;
  outs: { path: string; oid: string | null }[];
}

export function readLock(root: string): LockFile {
  const abs = join(root, LOCK_FILE);
  if (!existsSync(abs)) {
    return { schema: "1.0", stages: {} };
  }
  let data: unknown;
  try {
    data = cachedParse(root, "lock", [abs], () => parse(readFileSync(abs, "utf8")) as unknown);
  } catch {
    return parseLock(readFileSync(abs, "utf8")); // Says where the YAML breaks.
  }
  // The parsed value is cached; the text is read again only to place an error.
  return checkLock(data, () => readFileSync(abs, "utf8"));
}

/** lathe.lock's text checked as readLock checks it (the language server reads it this way). */
export function parseLock(text: string): LockFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    throw notValidYaml(LOCK_FILE, first, DELETE_HINT);
  }
  return checkLock(doc.toJS() as unknown, () => text);
}

const DELETE_HINT =
  "fix it, or delete lathe.lock to start over (every stage is then stale and runs on the next repro)";

/** The lock's entries after checking their shape, so that no later step trips on a hand edit. */
function checkLock(data: unknown, text: () => string): LockFile {
  if (data === null || data === undefined) {
    return { schema: "1.0", stages: {} };
  }
  const fail = (path: (string | number)[], message: string): never => {
    throw lockError(text(), path, message);
  };
  if (!isRecord(data)) {
    return fail([], "must be a mapping with 'schema' and 'stages'");
  }
  const stages = data.stages;
  if (stages === undefined || stages === null) {
    return { schema: "1.0", stages: {} };
  }
  if (!isRecord(stages)) {
    return fail(["stages"], "'stages' must be a mapping of stage names to entries");
  }
  for (const [name, entry] of Object.entries(stages)) {
    const where = `stage '${name}': `;
    const at = (...rest: (string | number)[]) => ["stages", name, ...rest];
    if (!isRecord(entry)) {
      fail(at(), `${where}the entry must be a mapping with cmd, deps, params and outs`);
    }
    const e = entry as Record<string, unknown>;
    if (typeof e.cmd !== "string") {
      fail(e.cmd === undefined ? at() : at("cmd"), `${where}'cmd' must be a string`);
    }
    if (e.env !== undefined && e.env !== null && !isRecord(e.env)) {
      fail(at("env"), `${where}'env' must be a mapping of names to values`);
    }
    for (const field of ["deps", "outs"] as const) {
      const list = e[field];
      if (list === undefined || list === null) {
        continue;
      }
      if (!Array.isArray(list)) {
        fail(at(field), `${where}'${field}' must be a list of {path, oid}`);
      }
      (list as unknown[]).forEach((item, i) => {
        const ok = isRecord(item) && typeof item.path === "string" && typeof item.oid === "string";
        if (!ok) {
          fail(at(field, i), `${where}${field}[${i}] must be a mapping with a 'path' and an 'oid'`);
        }
      });
    }
    if (e.params !== undefined && e.params !== null) {
      const params = e.params;
      if (!isRecord(params)) {
        fail(at("params"), `${where}'params' must be a mapping of params files to their values`);
      }
      for (const [file, values] of Object.entries(params as Record<string, unknown>)) {
        if (!isRecord(values)) {
          fail(at("params", file), `${where}params of ${file} must be a mapping of keys to values`);
        }
      }
    }
  }
  return { schema: "1.0", stages: stages as Record<string, LockEntry> };
}

/** The error for the value at `path`, placed at its line and column in the lock's text. */
function lockError(text: string, path: (string | number)[], message: string): LatheError {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  let node: unknown = doc.contents;
  for (let i = path.length; i > 0 && node === doc.contents; i--) {
    const found = doc.getIn(path.slice(0, i), true) as Node | undefined;
    node = found ?? doc.contents;
  }
  const offset = isNode(node) && node.range ? node.range[0] : 0;
  const pos = lines.linePos(offset);
  const stage = path[0] === "stages" && path.length > 1 ? { stage: String(path[1]) } : {};
  return new LatheError(
    "LATHE_BAD_FILE",
    `${LOCK_FILE}:${pos.line}:${pos.col}: ${message}; ${DELETE_HINT}`,
    { file: LOCK_FILE, ...pos, ...stage },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Sets one stage's entry and rewrites the file via a temp file and rename. */
export function writeLockEntry(root: string, stage: string, entry: LockEntry, order: string[]) {
  const lock = readLock(root);
  lock.stages[stage] = entry;
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  const stages = Object.fromEntries(
    Object.entries(lock.stages).sort(([a], [b]) => rank(a) - rank(b)),
  );
  const abs = join(root, LOCK_FILE);
  const temp = `${abs}.${process.pid}.tmp`;
  const header = "# Written by `lathe repro`: what each stage last ran with. Commit it.\n";
  writeFileSync(temp, header + stringify({ schema: lock.schema, stages }, { lineWidth: 0 }));
  renameSync(temp, abs);
}

/** The lock entry for a stage that just ran (or was restored) with `state`, writing `outs`. */
export function lockEntryOf(state: StageState, outs: LockedPath[]): LockEntry {
  const env = Object.keys(state.env).length ? { env: state.env } : {};
  return { cmd: state.cmd, ...env, deps: state.deps, params: state.params, outs };
}

/** Why a stage must run, or null when it is up to date (the first of staleReasons). */
export function staleReason(entry: LockEntry | undefined, now: StageState): string | null {
  return staleReasons(entry, now)[0]?.message ?? null;
}

/** Every way the stage differs from its lock entry; empty when it is up to date. */
export function staleReasons(entry: LockEntry | undefined, now: StageState): StageReason[] {
  if (!entry) {
    return [{ kind: "never-ran", message: "never ran (no lock entry)" }];
  }
  const reasons: StageReason[] = [];
  if (entry.cmd !== now.cmd) {
    reasons.push({ kind: "cmd", message: "cmd changed" });
  }
  if (JSON.stringify(entry.env ?? {}) !== JSON.stringify(now.env)) {
    reasons.push({ kind: "cmd", subject: "env", message: "env changed" });
  }
  // A dep that is gone has the empty id (state.ts): say so, since "changed" sends a user looking.
  const gone = new Set(now.deps.filter((d) => d.oid === "").map((d) => d.path));
  for (const dep of changedPaths(entry.deps ?? [], now.deps)) {
    const message = gone.has(dep) ? `dep ${dep} is missing` : `dep ${dep} changed`;
    reasons.push({ kind: "dep", subject: dep, message });
  }
  for (const [file, key] of changedParams(entry.params ?? {}, now.params)) {
    reasons.push({ kind: "param", subject: `${file}:${key}`, message: `param ${key} changed` });
  }
  const missing = now.outs.filter((o) => o.oid === null).map((o) => o.path);
  for (const out of missing) {
    reasons.push({ kind: "out-missing", subject: out, message: `out ${out} is missing` });
  }
  const present = now.outs.filter((o) => o.oid !== null) as LockedPath[];
  // An out taken out of lathe.yaml changes what the stage is (as a new one does): it runs again,
  // and the reason says that the out is gone from the file, not that its data changed.
  const declared = new Set(now.outs.map((o) => o.path));
  const undeclared = (entry.outs ?? []).filter((o) => !declared.has(o.path)).map((o) => o.path);
  for (const out of undeclared) {
    const message = `out ${out} is no longer declared in the pipeline file`;
    reasons.push({ kind: "out-changed", subject: out, message });
  }
  const locked = (entry.outs ?? []).filter(
    (o) => declared.has(o.path) && !missing.includes(o.path),
  );
  for (const out of changedPaths(locked, present)) {
    reasons.push({ kind: "out-changed", subject: out, message: `out ${out} changed` });
  }
  return reasons;
}

function changedPaths(locked: LockedPath[], now: LockedPath[]): string[] {
  const before = new Map(locked.map((p) => [p.path, p.oid]));
  const changed = now.filter((p) => before.get(p.path) !== p.oid).map((p) => p.path);
  const current = new Set(now.map((p) => p.path));
  return [...changed, ...locked.filter((p) => !current.has(p.path)).map((p) => p.path)];
}

function changedParams(locked: StageParams, now: StageParams): [string, string][] {
  const keys = (p: StageParams) =>
    Object.entries(p).flatMap(([file, values]) => Object.keys(values).map((k) => `${file}\0${k}`));
  const all = new Set([...keys(now), ...keys(locked)]);
  const changed: [string, string][] = [];
  for (const id of all) {
    const [file, key] = id.split("\0") as [string, string];
    if (JSON.stringify(locked[file]?.[key]) !== JSON.stringify(now[file]?.[key])) {
      changed.push([file, key]);
    }
  }
  return changed;
}
