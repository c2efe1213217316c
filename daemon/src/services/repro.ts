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
import { readLock } from "../pipeline/lock";
import { ParamsReader, type StageParams } from "../pipeline/params";
import { loadPipeline } from "../pipeline/parse";
import { stageOutputs, type Stage } from "../pipeline/spec";
import { ensureExperiment } from "../store/experiments";
import { createRun, failInterruptedRepros, finishRun } from "../store/runs";
import { acquireReproLock } from "./repro-lock";
import { reproStage, type ReproScope } from "./repro-stage";

export interface ReproOptions {
  /** Stages to bring up to date, with everything upstream of them; all when empty. */
  stages?: string[];
  /** Run the selected stages even when they are up to date. */
  force?: boolean;
  /** The daemon's URL and token, when the repro runs inside it: stages get LATHE_API etc. */
  daemon?: { url: string; token: string };
  /** Aborting kills the running stage's process group; later stages are not run. */
  signal?: AbortSignal;
  /** Called as each stage finishes (or is skipped), before the next one starts. */
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
  const interrupted = failInterruptedRepros(ctx.db);
  if (interrupted > 0) {
    ctx.log.warn({ runs: interrupted }, "marked runs of an interrupted repro as FAILED");
  }
  const { dag, selected, params } = plan(ctx.ws.root, options.stages);
  const scope = await openScope(ctx, dag, options);
  ctx.events.emit({ type: "runs/changed", runId: scope.parentId });
  try {
    const stages = await runStages(scope, dag, selected, params, options);
    return finishRepro(scope, stages);
  } catch (err) {
    // Hashing or the store failed outside a stage run: the parent run must not stay RUNNING.
    finishRun(ctx.db, scope.parentId, { status: "FAILED", error: (err as Error).message });
    ctx.events.emit({ type: "runs/changed", runId: scope.parentId });
    throw err;
  }
}

async function runStages(
  scope: ReproScope,
  dag: Dag,
  selected: Stage[],
  params: Map<string, StageParams>,
  options: ReproOptions,
): Promise<StageResult[]> {
  const stages: StageResult[] = [];
  const broken = new Set<string>();
  for (const stage of selected) {
    const result = await nextStage(scope, dag, stage, params.get(stage.name)!, broken);
    if (result.status === "failed" || result.status === "not-run") {
      broken.add(stage.name);
    }
    stages.push(result);
    scope.ctx.events.emit({ type: "repro/progress", stage: stage.name, status: result.status });
    options.onStage?.(result);
  }
  return stages;
}

function finishRepro(scope: ReproScope, stages: StageResult[]): ReproResult {
  const { ctx } = scope;
  const ok = stages.every((s) => s.status === "ran" || s.status === "skipped");
  const ran = stages.some((s) => s.status === "ran" || s.status === "failed");
  finishRun(ctx.db, scope.parentId, {
    status: !ok ? "FAILED" : ran ? "FINISHED" : "SKIPPED",
    log: stages.map((s) => `${s.stage}: ${s.status} (${s.reason})`).join("\n"),
    error: ok ? null : "some stages failed or did not run",
  });
  ctx.events.emit({ type: "runs/changed", runId: scope.parentId });
  return { parentRunId: scope.parentId, ok, stages };
}

/** Everything that can be wrong with the files is found here, before any stage runs. */
function plan(root: string, names: string[] | undefined) {
  const pipeline = loadPipeline(root);
  const dag = buildDag(pipeline);
  const selected = selectStages(dag, names);
  checkDepsExist(root, dag, selected);
  const reader = new ParamsReader(root);
  const params = new Map<string, StageParams>(
    selected.map((s) => [s.name, reader.forStage(pipeline, s)]),
  );
  return { dag, selected, params };
}

async function openScope(ctx: Context, dag: Dag, options: ReproOptions): Promise<ReproScope> {
  const root = ctx.ws.root;
  const experiment = ensureExperiment(ctx.db, dag.pipeline.experiment ?? basename(root));
  const outputs = dag.order.flatMap((s) => stageOutputs(s).map((o) => o.wsPath));
  const git = await gitState(root, outputs);
  const names = options.stages?.length ? ` ${options.stages.join(" ")}` : "";
  const parentId = createRun(ctx.db, {
    experimentId: experiment.id,
    name: "repro",
    command: `lathe repro${names}${options.force ? " --force" : ""}`,
    cwd: root,
    gitCommit: git.commit,
    gitDirty: git.dirty,
  });
  return {
    ctx,
    experimentId: experiment.id,
    parentId,
    git,
    lock: readLock(root).stages,
    order: dag.order.map((s) => s.name),
    force: options.force ?? false,
    daemon: options.daemon,
    signal: options.signal,
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
