/**
 * `lathe status --pipeline` and `lathe dag` as use cases: which stages are stale and every
 * reason why, and the stage graph, for the CLI and the editor (GET /api/v1/pipeline/…).
 */
import { posix } from "node:path";
import { loadModelsSection } from "../registry/gates-parse";
import type { PipelineDag, PipelineStatus, StageReason } from "../../../schemas/api";
import type { Context } from "../context";
import { buildDag, type Dag } from "../pipeline/dag";
import { PathGuard } from "../pipeline/guard";
import { HashCache } from "../pipeline/hashcache";
import { readLock, staleReasons } from "../pipeline/lock";
import { ParamsReader, runParamKey } from "../pipeline/params";
import { DEFAULT_PARAMS_FILE, loadPipeline } from "../pipeline/parse";
import { stageOutputs, type Stage } from "../pipeline/spec";
import { currentState } from "../pipeline/state";

type StageStatus = PipelineStatus["stages"][number];

/** Compares every stage with lathe.lock; hashes only files whose stat changed. */
export async function pipelineStatus(ctx: Context): Promise<PipelineStatus> {
  const root = ctx.ws.root;
  const dag = buildDag(loadPipeline(root));
  // The models: section is checked too, so a file `lathe repro` would refuse fails here alike.
  loadModelsSection(root, dag.pipeline);
  const reader = new ParamsReader(root);
  const lock = readLock(root).stages;
  const hashes = new HashCache(ctx.db);
  const guard = new PathGuard(root, dag.pipeline);
  const byName = new Map<string, StageStatus>();

  for (const stage of dag.order) {
    guard.stage(stage); // Nothing is hashed through a symlink that leaves the workspace.
    const state = await currentState(root, hashes, stage, reader.forStage(dag.pipeline, stage));
    const reasons = [
      ...(stage.alwaysChanged ? [alwaysChanged] : []),
      ...staleReasons(lock[stage.name], state),
      ...upstreamReasons(dag, stage, byName),
    ];
    byName.set(stage.name, stageStatus(stage, reasons));
  }

  const stages = dag.order.map((s) => byName.get(s.name)!);
  const stale = stages.some((s) => s.state === "stale");
  return { file: dag.pipeline.file, stale, stages, warnings: dag.pipeline.warnings };
}

const alwaysChanged: StageReason = {
  kind: "always-changed",
  message: "always_changed: runs on every repro",
};

/** A stage downstream of a stale one runs after it, whatever its own inputs say now. */
function upstreamReasons(dag: Dag, stage: Stage, byName: Map<string, StageStatus>): StageReason[] {
  return [...dag.upstream.get(stage.name)!]
    .filter((u) => byName.get(u)?.state === "stale")
    .map((u) => ({ kind: "upstream", subject: u, message: `upstream stage '${u}' is stale` }));
}

function stageStatus(stage: Stage, reasons: StageReason[]): StageStatus {
  if (stage.frozen) {
    // The state already says "frozen"; `lathe status` prints it before the reasons.
    const frozen: StageReason = { kind: "frozen", message: "never run by repro" };
    return { stage: stage.name, state: "frozen", reasons: [frozen, ...reasons] };
  }
  return { stage: stage.name, state: reasons.length ? "stale" : "up-to-date", reasons };
}

/** The stage graph in run order. */
export function pipelineDag(root: string): PipelineDag {
  const dag = buildDag(loadPipeline(root));
  loadModelsSection(root, dag.pipeline);
  const stages = dag.order.map((s) => ({
    name: s.name,
    cmd: s.cmd,
    desc: s.desc,
    frozen: s.frozen,
    wdir: s.wdir,
    upstream: [...dag.upstream.get(s.name)!],
    deps: s.deps.map((d) => d.wsPath),
    params: s.params.map((p) =>
      runParamKey(p.file, p.key, posix.join(s.wdir, DEFAULT_PARAMS_FILE)),
    ),
    outs: stageOutputs(s).map((o) => o.wsPath),
    line: s.pos.line,
    col: s.pos.col,
  }));
  const { metrics, plots } = dag.pipeline;
  return {
    file: dag.pipeline.file,
    stages,
    metrics: metrics.map((m) => m.wsPath),
    plots: plots.map((p) => ({ id: p.id, files: p.files })),
  };
}
