/**
 * lathe.lock: what each stage last ran with (cmd, dep ids, param values, out ids), in YAML like
 * dvc.lock. A stage is stale when any of those differ from now. Written atomically after every
 * successful stage, so a later failure keeps the entries of the stages before it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { LatheError } from "../errors";
import type { StageParams } from "./params";

export const LOCK_FILE = "lathe.lock";

export interface LockedPath {
  path: string;
  oid: string;
  size?: number;
  files?: number;
}

export interface LockEntry {
  cmd: string;
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
    data = parse(readFileSync(abs, "utf8"));
  } catch (err) {
    const reason = (err as Error).message.split("\n")[0];
    throw new LatheError(
      "LATHE_BAD_FILE",
      `${LOCK_FILE}: not valid YAML (${reason}); delete it to run every stage again`,
      { file: LOCK_FILE },
    );
  }
  const stages = (data as { stages?: unknown } | null)?.stages;
  if (stages === undefined || stages === null) {
    return { schema: "1.0", stages: {} };
  }
  if (typeof stages !== "object" || Array.isArray(stages)) {
    throw new LatheError(
      "LATHE_BAD_FILE",
      `${LOCK_FILE}: 'stages' must be a mapping; delete the file to run every stage again`,
      { file: LOCK_FILE },
    );
  }
  return { schema: "1.0", stages: stages as Record<string, LockEntry> };
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

/** Why a stage must run, or null when it is up to date. */
export function staleReason(entry: LockEntry | undefined, now: StageState): string | null {
  if (!entry) {
    return "never ran (no lock entry)";
  }
  if (entry.cmd !== now.cmd) {
    return "cmd changed";
  }
  const dep = firstChangedPath(entry.deps ?? [], now.deps);
  if (dep) {
    return `dep ${dep} changed`;
  }
  const param = firstChangedParam(entry.params ?? {}, now.params);
  if (param) {
    return `param ${param} changed`;
  }
  for (const out of now.outs) {
    if (out.oid === null) {
      return `out ${out.path} is missing`;
    }
  }
  const out = firstChangedPath(entry.outs ?? [], now.outs as LockedPath[]);
  return out ? `out ${out} changed` : null;
}

function firstChangedPath(locked: LockedPath[], now: LockedPath[]): string | null {
  const before = new Map(locked.map((p) => [p.path, p.oid]));
  for (const p of now) {
    if (before.get(p.path) !== p.oid) {
      return p.path;
    }
  }
  const current = new Set(now.map((p) => p.path));
  return locked.find((p) => !current.has(p.path))?.path ?? null;
}

function firstChangedParam(locked: StageParams, now: StageParams): string | null {
  const keys = (p: StageParams) =>
    Object.entries(p).flatMap(([file, values]) => Object.keys(values).map((k) => [file, k]));
  for (const [file, key] of [...keys(now), ...keys(locked)] as [string, string][]) {
    const a = JSON.stringify(locked[file]?.[key]);
    const b = JSON.stringify(now[file]?.[key]);
    if (a !== b) {
      return key;
    }
  }
  return null;
}
