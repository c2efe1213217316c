/**
 * `lathe repro` as a use case: read the pipeline, check it whole before anything runs, then run
 * each stale stage in order as a child run of one "repro" parent run. A failed stage stops its
 * dependants only; the other stages still run. Shared by the CLI (in process) and the daemon.
 */
import { basename } from "node:path";
import type { ReproResult, StageResult } from "../../../schemas/api";
import type { Context } from "../context";
import { gitState } from "../git";
import { checkDepsExist, buildDag, selectStages, type Dag } from "../pipeline/dag";
import { PathGuard } from "../pipeline/guard";
import { HashCache } from "../pipeline/hashcache";
import { readLock } from "../pipeline/lock";
import { ParamsReader, type StageParams } from "../pipeline/params";
import { loadPipeline } from "../pipeline/parse";
import { stageOutputs, type Stage } from "../pipeline/spec";
import { ensureExperiment } from "../store/experiments";
import { KILL_GRACE_MS } from "../pipeline/exec";
import { isSameGroupAlive, stopGroup } from "../pipeline/pgroup";
import { createRun, failInterruptedRepros, finishRun, leftoverStages } from "../store/runs";
import { acquireReproLock } from "./repro-lock";
import { applyModels } from "../registry/gates";
import { loadModelsSection } from "../registry/gates-parse";
import { reproStage, type ReproScope } from "./repro-stage";

export interface ReproOptions {
  /** Stages to bring up to date, with everything upstream of them; all when empty. */
  stages?: string[];
  /** Select the named stages and everything downstream of them, not upstream. */
  downstream?: boolean;
  /** Run the selected stages even when they are up to date. */
  force?: boolean;
  /**
   * Where stages log to (their LATHE_API, MLFLOW_TRACKING_URI and tokens): the daemon the repro
   * runs in or beside, or a CLI's own server when no daemon runs (cli/stage-api.ts).
   */
  api?: { url: string; token: string };
  /** Stages run at once when none depends on another (default 1). */
  jobs?: number;
  /** Aborting kills every running stage's process group; later stages are not run. */
  signal?: AbortSignal;
  /** Aborting SIGKILLs every running stage's process group at once, without a grace period. */
  forceSignal?: AbortSignal;
  /** Called as each stage finishes (or is skipped), in the order they finish. */
  onStage?: (result: StageResult) => void;
  /** Each chunk of a running stage's output. */
  onOutput?: (stage: string, chunk: string) => void;
}

/** Runs the pipeline; throws a LatheError for a bad pipeline, reports stage failures. */
export async function repro(ctx: Context, options: ReproOptions = {}): Promise<ReproResult> {
  const release = acquireReproLock(ctx.ws);
  try {
    return await reproLocked(ctx, options);
  } finally {
    release();
  }
}

async function reproLocked(ctx: Context, options: ReproOptions): Promise<ReproResult> {
  const stopped = await stopLeftoverStages(ctx);
  const interrupted = failInterruptedRepros(ctx.db, stopped);
  if (interrupted > 0) {
    ctx.log.warn({ runs: interrupted }, "marked runs of an interrupted repro as FAILED");
  }
  const { dag, selected, params, guard, models } = plan(
    ctx.ws.root,
    options.stages,
    options.downstream,
  );
  const scope = await openScope(ctx, dag, guard, options);
  ctx.events.emit({ type: "runs/changed", runId: scope.parentId });
  try {
    const stages = await runStages(scope, dag, selected, params, options);
    const cancelled = options.signal?.aborted === true;
    const warnings = [...dag.pipeline.warnings, ...stages.flatMap((s) => s.warnings ?? [])];
    const result = { ...finishRepro(scope, stages, cancelled), warnings };
    if (models.length === 0 || cancelled) {
      return result;
    }
    const gated = await applyModels(ctx, models, stages, options.api);
    return {
      ...result,
      ok: result.ok && gated.every((g) => g.gate?.passed !== false),
      models: gated,
    };
  } catch (err) {
    // Hashing or the store failed outside a stage run: the parent run must not stay RUNNING.
    finishRun(ctx.db, scope.parentId, { status: "FAILED", error: (err as Error).message });
    ctx.events.emit({ type: "runs/changed", runId: scope.parentId });
    throw err;
  }
}

/**
 * A repro killed without a chance to clean up (SIGKILL, a crash) leaves its stage runs RUNNING,
 * and their process groups may still run. Each group that is still the same one (its leader's
 * start time matches the recorded one) is stopped; returns the runs whose group was. A run with
 * no recorded start time (no /proc) is left alone: its pid may belong to another process now.
 */
async function stopLeftoverStages(ctx: Context): Promise<string[]> {
  const alive = leftoverStages(ctx.db).filter(
    (s) => s.pgidStart !== null && isSameGroupAlive(s.pgid, s.pgidStart),
  );
  await Promise.all(alive.map((s) => stopGroup(s.pgid, KILL_GRACE_MS)));
  alive.forEach((s) =>
    ctx.log.warn(
      { runId: s.runId, stage: s.stage, pgid: s.pgid },
      "stopped the process group of a stage left running by an interrupted repro",
    ),
  );
  return alive.map((s) => s.runId);
}

/**
 * Runs the selected stages, up to `jobs` at once: a stage starts when every selected stage
 * upstream of it is done, taking ready stages in pipeline order (so one job is the plain order).
 * Results come back in pipeline order.
 */
async function runStages(
  scope: ReproScope,
  dag: Dag,
  selected: Stage[],
  params: Map<string, StageParams>,
  options: ReproOptions,
): Promise<StageResult[]> {
  const jobs = Math.max(1, options.jobs ?? 1);
  const names = new Set(selected.map((s) => s.name));
  const results = new Map<string, StageResult>();
  const broken = new Set<string>();
  const pending = [...selected];
  const running = new Map<string, Promise<void>>();
  const isReady = (s: Stage) =>
    [...dag.upstream.get(s.name)!].every((u) => !names.has(u) || results.has(u));

  const start = (stage: Stage) => {
    const done = nextStage(scope, dag, stage, params.get(stage.name)!, broken).then((result) => {
      if (result.status === "failed" || result.status === "not-run") {
        broken.add(stage.name);
      }
      results.set(stage.name, result);
      running.delete(stage.name);
      scope.ctx.events.emit({ type: "repro/progress", stage: stage.name, status: result.status });
      options.onStage?.(result);
    });
    running.set(stage.name, done);
  };

  try {
    while (pending.length > 0 || running.size > 0) {
      for (let i = 0; i < pending.length && running.size < jobs;) {
        if (isReady(pending[i]!)) {
          start(pending.splice(i, 1)[0]!);
        } else {
          i++;
        }
      }
      await Promise.race(running.values());
    }
  } catch (err) {
    // Hashing or the store broke: stop the other stages before the parent run is failed.
    scope.abort.abort();
    await Promise.allSettled(running.values());
    throw err;
  }
  return selected.map((s) => results.get(s.name)!);
}

/** Ends the parent run: KILLED when the caller cancelled, even if every stage had finished. */
function finishRepro(
  scope: ReproScope,
  stages: StageResult[],
  cancelled: boolean,
): Omit<ReproResult, "warnings"> {
  const { ctx } = scope;
  const ok = !cancelled && stages.every((s) => ["ran", "restored", "skipped"].includes(s.status));
  const ran = stages.some((s) => s.status !== "skipped" && s.status !== "not-run");
  finishRun(ctx.db, scope.parentId, {
    status: cancelled ? "KILLED" : !ok ? "FAILED" : ran ? "FINISHED" : "SKIPPED",
    log: stages.map((s) => `${s.stage}: ${s.status} (${s.reason})`).join("\n"),
    error: cancelled
      ? "cancelled: running stages were killed, later stages not run"
      : ok
        ? null
        : "some stages failed or did not run",
  });
  ctx.events.emit({ type: "runs/changed", runId: scope.parentId });
  return { parentRunId: scope.parentId, ok, stages };
}

/** Everything that can be wrong with the files is found here, before any stage runs. */
function plan(root: string, names: string[] | undefined, downstream = false) {
  const pipeline = loadPipeline(root);
  const dag = buildDag(pipeline);
  const selected = selectStages(dag, names, downstream);
  checkDepsExist(root, dag, selected);
  const guard = new PathGuard(root, pipeline);
  selected.forEach((s) => guard.stage(s));
  const reader = new ParamsReader(root);
  const params = new Map<string, StageParams>(
    selected.map((s) => [s.name, reader.forStage(pipeline, s)]),
  );
  return { dag, selected, params, guard, models: loadModelsSection(root, pipeline) };
}

async function openScope(
  ctx: Context,
  dag: Dag,
  guard: PathGuard,
  options: ReproOptions,
): Promise<ReproScope> {
  const root = ctx.ws.root;
  const experiment = ensureExperiment(ctx.db, dag.pipeline.experiment ?? basename(root));
  const outputs = dag.order.flatMap((s) => stageOutputs(s).map((o) => o.wsPath));
  const git = await gitState(root, outputs);
  const names = options.stages?.length ? ` ${options.stages.join(" ")}` : "";
  const jobs = options.jobs && options.jobs > 1 ? ` --jobs ${options.jobs}` : "";
  // One controller for the repro: the caller's cancel, or a stage error, stops every stage.
  const abort = new AbortController();
  options.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  if (options.signal?.aborted) {
    abort.abort();
  }
  const parentId = createRun(ctx.db, {
    experimentId: experiment.id,
    name: "repro",
    command: `lathe repro${names}${options.downstream ? " --downstream" : ""}${options.force ? " --force" : ""}${jobs}`,
    cwd: root,
    gitCommit: git.commit,
    gitDirty: git.dirty,
  });
  return {
    ctx,
    hashes: new HashCache(ctx.db),
    guard,
    abort,
    experimentId: experiment.id,
    parentId,
    git,
    lock: readLock(root).stages,
    order: dag.order.map((s) => s.name),
    force: options.force ?? false,
    api: options.api,
    signal: abort.signal,
    forceSignal: options.forceSignal,
    onOutput: options.onOutput,
  };
}

async function nextStage(
  scope: ReproScope,
  dag: Dag,
  stage: Stage,
  params: StageParams,
  broken: Set<string>,
): Promise<StageResult> {
  const blocker = [...dag.upstream.get(stage.name)!].find((u) => broken.has(u));
  if (blocker) {
    const reason = `upstream stage '${blocker}' failed or did not run`;
    return { stage: stage.name, status: "not-run", runId: null, reason };
  }
  if (scope.signal?.aborted) {
    return { stage: stage.name, status: "not-run", runId: null, reason: "cancelled" };
  }
  return reproStage(scope, stage, params);
}
