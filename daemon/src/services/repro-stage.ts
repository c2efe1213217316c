/**
 * One stage of a repro: decide whether it is stale, and if so run it as a tracked run (params,
 * inputs, the command's log, outputs into the content store, metrics, the lock entry).
 */
import { existsSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { YAMLError } from "yaml";
import type { StageResult } from "../../../schemas/api";
import type { Context } from "../context";
import { storePath } from "../data/store";
import { toLatheError } from "../errors";
import type { GitState } from "../git";
import {
  MAX_LOG_BYTES,
  TailBuffer,
  lastLines,
  runCommand,
  type ExecResult,
} from "../pipeline/exec";
import type { PathGuard } from "../pipeline/guard";
import type { HashCache } from "../pipeline/hashcache";
import { processStart } from "../pipeline/pgroup";
import {
  lockEntryOf,
  staleReasons,
  writeLockEntry,
  type LockEntry,
  type LockedPath,
  type StageState,
} from "../pipeline/lock";
import { readMetricsFile, readPlotSeries, type MetricPoint } from "../pipeline/metrics";
import { runParams, type StageParams } from "../pipeline/params";
import { DEFAULT_PARAMS_FILE } from "../pipeline/parse";
import { lookupRunCache, recordRunCache } from "../pipeline/runcache";
import { stageOutputs, type PathEntry, type Stage } from "../pipeline/spec";
import { withClientPaths } from "../tracking/clients";
import { followMetrics, pointId, type LiveFile } from "../tracking/live-metrics";
import { currentState, runCacheKey } from "../pipeline/state";
import {
  addRunFiles,
  createRun,
  finishRun,
  logMetrics,
  logParams,
  setRunProcess,
  updateRunLog,
} from "../store/runs";
import { inStore, restoreStage } from "./repro-restore";

/** What every stage of one repro shares. */
export interface ReproScope {
  ctx: Context;
  hashes: HashCache;
  /** Checks each stage path against the workspace, symlinks followed, before it is touched. */
  guard: PathGuard;
  /** Aborts every running stage of the repro (its signal is `signal`). */
  abort: AbortController;
  experimentId: string;
  parentId: string;
  git: GitState;
  lock: Record<string, LockEntry>;
  order: string[];
  force: boolean;
  /** Where the stages log to (ReproOptions.api). */
  api?: { url: string; token: string };
  signal?: AbortSignal;
  /** SIGKILLs the running stages at once (a second interrupt). */
  forceSignal?: AbortSignal;
  onOutput?: (stage: string, chunk: string) => void;
}

const ERROR_TAIL_LINES = 20;
/** How often a running stage's log is written to its run, for views that follow it. */
const LIVE_LOG_MS = 1000;

/** Runs the stage when it is stale; never throws for a stage failure, only reports it. */
export async function reproStage(
  scope: ReproScope,
  stage: Stage,
  params: StageParams,
): Promise<StageResult> {
  // Checked again here: an upstream stage may have made a symlink this stage's paths go through.
  scope.guard.stage(stage);
  const state = await currentState(scope.ctx.ws.root, scope.hashes, stage, params);
  const key = runCacheKey(stage, state);
  const cached = lookupRunCache(scope.ctx.db, key);
  if (stage.frozen) {
    return { stage: stage.name, status: "skipped", runId: cached?.runId ?? null, reason: "frozen" };
  }
  const reason = scope.force
    ? "forced"
    : stage.alwaysChanged
      ? "always_changed"
      : staleReasons(scope.lock[stage.name], state)
          .map((r) => r.message)
          .join("; ") || null;
  if (reason === null) {
    const runId = cached?.runId ?? null;
    return { stage: stage.name, status: "skipped", runId, reason: "up to date" };
  }
  scope.ctx.events.emit({ type: "repro/progress", stage: stage.name, status: "running" });
  const restorable = !scope.force && !stage.alwaysChanged && cached?.restorable;
  if (restorable && (await inStore(scope.ctx.ws, cached.outs))) {
    return restoreStage(scope, stage, state, cached, reason);
  }
  return runStage(scope, stage, state, reason, key);
}

async function runStage(
  scope: ReproScope,
  stage: Stage,
  state: StageState,
  reason: string,
  key: string,
): Promise<StageResult> {
  const { ctx } = scope;
  const cwd = scope.guard.wdir(stage);
  const runId = createRun(ctx.db, {
    experimentId: scope.experimentId,
    name: stage.name,
    parentId: scope.parentId,
    stage: stage.name,
    command: stage.cmd,
    cwd,
    gitCommit: scope.git.commit,
    gitDirty: scope.git.dirty,
  });
  logParams(ctx.db, runId, runParams(state.params, posix.join(stage.wdir, DEFAULT_PARAMS_FILE)));
  addRunFiles(ctx.db, runId, "in", state.deps);
  ctx.events.emit({ type: "runs/changed", runId });
  ctx.log.info({ stage: stage.name, runId, reason, cmd: stage.cmd, cwd }, "stage started");

  // As in dvc: a stage that no longer writes an out fails instead of passing on the old file.
  try {
    await removeOutputs(scope.guard, stage, (o) => !o.persist);
  } catch (err) {
    const error = toLatheError(err);
    finishRun(ctx.db, runId, { status: "FAILED", error: error.message });
    ctx.events.emit({ type: "runs/changed", runId });
    return { stage: stage.name, status: "failed", runId, reason: error.message };
  }
  let result: StageResult;
  const live = liveLog(ctx, runId);
  const metrics = followMetrics(ctx, runId, liveFiles(ctx.ws.root, stage));
  try {
    const exec = await runCommand({
      cmd: stage.cmd,
      cwd,
      env: stageEnv(runId, scope.api, stage.env),
      signal: scope.signal,
      forceSignal: scope.forceSignal,
      // Kept so that a later repro can stop the group if this process dies without cleaning up.
      onSpawn: (pid) => setRunProcess(ctx.db, runId, pid, processStart(pid)),
      onOutput: (chunk) => {
        live.write(chunk);
        scope.onOutput?.(stage.name, chunk);
      },
    });
    live.stop();
    const logged = metrics.stop();
    result = await afterCommand(scope, stage, state, { runId, key, logged }, exec, reason);
  } catch (err) {
    live.stop();
    metrics.stop();
    // Storing outputs or reading metrics broke (disk full, a bug): the run must not stay RUNNING.
    const error = toLatheError(err);
    finishRun(ctx.db, runId, { status: "FAILED", error: error.message });
    result = { stage: stage.name, status: "failed", runId, reason: error.message };
  }
  ctx.events.emit({ type: "runs/changed", runId });
  ctx.log.info({ stage: stage.name, runId, status: result.status }, "stage done");
  return result;
}

async function afterCommand(
  scope: ReproScope,
  stage: Stage,
  state: StageState,
  { runId, key, logged }: { runId: string; key: string; logged: Map<string, Set<string>> },
  exec: ExecResult,
  reason: string,
): Promise<StageResult> {
  const failure = commandFailure(stage, scope.ctx.ws.root, exec);
  if (failure) {
    finishRun(scope.ctx.db, runId, {
      status: exec.cancelled ? "KILLED" : "FAILED",
      exitCode: exec.exitCode,
      log: exec.log,
      error: failure.error,
    });
    return { stage: stage.name, status: "failed", runId, reason: failure.reason };
  }

  const outs = await storeOutputs(scope, stage);
  const { notes, warnings } = recordMetrics(scope, stage, runId, logged);
  addRunFiles(scope.ctx.db, runId, "out", outs);
  writeLockEntry(scope.ctx.ws.root, stage.name, lockEntryOf(state, outs), scope.order);
  const restorable = stageOutputs(stage).every((o) => o.cache && !o.persist);
  recordRunCache(scope.ctx.db, key, { stage: stage.name, runId, outs, restorable });
  const log = notes.length ? `${exec.log}\n${notes.join("\n")}\n` : exec.log;
  finishRun(scope.ctx.db, runId, { status: "FINISHED", exitCode: 0, log });
  const result: StageResult = { stage: stage.name, status: "ran", runId, reason };
  return warnings.length ? { ...result, warnings } : result;
}

/** Why the command counts as failed (exit code, signal, a declared out not written), or null. */
function commandFailure(
  stage: Stage,
  root: string,
  exec: ExecResult,
): { reason: string; error: string } | null {
  const tail =
    lastLines(exec.stderrTail, ERROR_TAIL_LINES) || lastLines(exec.log, ERROR_TAIL_LINES);
  if (exec.cancelled) {
    return { reason: "cancelled", error: "cancelled; the stage's process group was killed" };
  }
  if (exec.spawnError) {
    return { reason: "could not start", error: `could not start 'sh': ${exec.spawnError}` };
  }
  if (exec.exitCode !== 0) {
    const reason = exec.exitCode === null ? `killed by ${exec.signal}` : `exit ${exec.exitCode}`;
    return { reason, error: tail || `${reason}, no output` };
  }
  const missing = stageOutputs(stage).find((o) => !existsSync(join(root, o.wsPath)));
  if (missing) {
    const reason = `did not write its out ${missing.wsPath}`;
    return { reason, error: `stage '${stage.name}' exited 0 but ${reason}` };
  }
  return null;
}

/**
 * Deletes the stage's outputs that `which` selects, before a run or a restore; none of them when
 * one leads outside the workspace or onto ground it may not delete.
 */
export async function removeOutputs(
  guard: PathGuard,
  stage: Stage,
  which: (out: PathEntry) => boolean,
): Promise<void> {
  const targets = stageOutputs(stage)
    .filter(which)
    .map((o) => guard.output(stage, o));
  await Promise.all(targets.map((abs) => rm(abs, { recursive: true, force: true })));
}

/** Copies cached outputs into the content store; `cache: false` ones are only hashed. */
async function storeOutputs(scope: ReproScope, stage: Stage): Promise<LockedPath[]> {
  const outs: LockedPath[] = [];
  for (const out of stageOutputs(stage)) {
    // The command may have made the out a symlink to elsewhere: never store what lies there.
    const abs = scope.guard.output(stage, out);
    const hash = out.cache ? await storePath(scope.ctx.ws, abs) : await scope.hashes.hashPath(abs);
    const locked: LockedPath = {
      path: out.wsPath,
      oid: hash.oid,
      size: hash.size,
      files: hash.files,
    };
    if (hash.kind === "file" && (await isExecutable(abs))) {
      locked.executable = true; // Kept for run-cache restores, as git keeps 100755.
    }
    outs.push(locked);
  }
  return outs;
}

/** Files `recordMetrics` could not read: whole messages for the run's log, short warnings. */
export interface MetricsProblems {
  /** `lathe: no metrics read from …` with the reader's whole message (a YAML error's excerpt). */
  notes: string[];
  /** `stage 'train': metrics.json:1:5: …`, one line each, for repro's `warnings`. */
  warnings: string[];
}

/**
 * Logs the stage's metrics files and plot series; reports the files it could not read.
 * Points of a file already logged while the stage ran (`logged`, by workspace path) are skipped.
 */
export function recordMetrics(
  scope: ReproScope,
  stage: Stage,
  runId: string,
  logged = new Map<string, Set<string>>(),
): MetricsProblems {
  const problems: MetricsProblems = { notes: [], warnings: [] };
  const points: MetricPoint[] = [];
  const read = (entry: PathEntry, reader: (abs: string) => MetricPoint[]) => {
    const path = entry.wsPath;
    try {
      const seen = logged.get(path);
      const all = reader(scope.guard.output(stage, entry));
      points.push(...(seen ? all.filter((p) => !seen.has(pointId(p))) : all));
    } catch (err) {
      // Metrics are not a gate: a malformed file does not undo a successful stage, but repro
      // warns about it and the run's log keeps the whole message.
      const message = (err as Error).message.trimEnd();
      problems.notes.push(`lathe: no metrics read from ${path}: ${message}`);
      problems.warnings.push(`stage '${stage.name}': ${metricsErrorLine(path, err)}`);
    }
  };
  stage.metrics.forEach((m) => read(m, readMetricsFile));
  stage.plots.forEach((p) => read(p, readPlotSeries));
  logMetrics(scope.ctx.db, runId, points);
  return problems;
}

/** `m.json:1:5: no metrics read: Flow map must end with a }`: the error's first line, placed. */
function metricsErrorLine(path: string, err: unknown): string {
  const first = (err as Error).message.split("\n")[0]!;
  if (err instanceof YAMLError && err.linePos) {
    const { line, col } = err.linePos[0];
    const reason = first.replace(/ at line \d+, column \d+:?$/, "");
    return `${path}:${line}:${col}: no metrics read, not valid JSON or YAML: ${reason}`;
  }
  return `${path}: no metrics read: ${first}`;
}

/** The stage's metrics and plots files, for `followMetrics` (which keeps the tables). */
function liveFiles(root: string, stage: Stage): LiveFile[] {
  const file = (p: PathEntry, stepless: LiveFile["stepless"]) => ({
    abs: join(root, p.wsPath),
    wsPath: p.wsPath,
    stepless,
  });
  return [
    ...stage.metrics.map((m) => file(m, "index")),
    ...stage.plots.map((p) => file(p, "skip")),
  ];
}

/**
 * Writes the output so far to the running run at most once per LIVE_LOG_MS and says so on the
 * event bus, so that an open log view can follow the stage. The final log replaces it.
 */
function liveLog(ctx: Context, runId: string): { write(chunk: string): void; stop(): void } {
  const buffer = new TailBuffer(MAX_LOG_BYTES);
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    updateRunLog(ctx.db, runId, buffer.text());
    ctx.events.emit({ type: "runs/changed", runId });
  };
  return {
    write(chunk) {
      buffer.write(Buffer.from(chunk, "utf8"));
      timer ??= setTimeout(flush, LIVE_LOG_MS);
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * The parent environment plus the stage's own `env`, the run id, the shipped clients on
 * PYTHONPATH and NODE_PATH and where to log to (the CLI always has an API for its stages).
 */
function stageEnv(
  runId: string,
  api: { url: string; token: string } | undefined,
  own: Record<string, string>,
): NodeJS.ProcessEnv {
  const ids = { LATHE_RUN_ID: runId, MLFLOW_RUN_ID: runId };
  const env = withClientPaths({ ...process.env, ...own, ...ids });
  if (api) {
    env.LATHE_API = api.url;
    env.LATHE_TOKEN = api.token;
    env.MLFLOW_TRACKING_URI = api.url;
    env.MLFLOW_TRACKING_TOKEN = api.token;
  }
  return env;
}

async function isExecutable(abs: string): Promise<boolean> {
  return ((await stat(abs)).mode & 0o100) !== 0;
}
