/**
 * What the Pipelines view shows for each stage, computed from the daemon's answers (the DAG, the
 * pipeline status and the newest runs) and the live repro events. Pure: no `vscode` import, so
 * it is tested without an editor (test/extension/pipelines-state.test.ts).
 */
import type { PipelineDag, PipelineStatus, RunSummary, StageReason } from "../../../schemas/api";

export type StageState = "running" | "failed" | "stale" | "up-to-date" | "frozen";

export interface StageView {
  name: string;
  state: StageState;
  /** One line: the first reason, or what the last run did. */
  description: string;
  /** Markdown: the command, upstream stages, every reason, the last run. */
  tooltip: string;
  cmd: string;
  line: number;
  col: number;
  upstream: string[];
  /** The stage's newest run, for "Show Log". */
  lastRunId: string | null;
}

export interface ViewInputs {
  dag: PipelineDag;
  status: PipelineStatus;
  /** Newest first, as `GET /api/v1/runs` answers. */
  runs: RunSummary[];
  /** Stages a repro reported `running` for and has not finished yet. */
  running: ReadonlySet<string>;
}

/** The stages in DAG order (upstream first), each with its state. */
export function stageViews({ dag, status, runs, running }: ViewInputs): StageView[] {
  const statusOf = new Map(status.stages.map((s) => [s.stage, s]));
  const lastRun = newestRunByStage(runs);
  return dag.stages.map((stage) => {
    const st = statusOf.get(stage.name);
    const run = lastRun.get(stage.name);
    const reasons = st?.reasons ?? [];
    const state = stateOf(st?.state ?? "stale", run, running.has(stage.name));
    return {
      name: stage.name,
      state,
      description: describe(state, reasons, run),
      tooltip: tooltipOf(stage, state, reasons, run),
      cmd: stage.cmd,
      line: stage.line,
      col: stage.col,
      upstream: stage.upstream,
      lastRunId: run?.id ?? null,
    };
  });
}

function newestRunByStage(runs: RunSummary[]): Map<string, RunSummary> {
  const byStage = new Map<string, RunSummary>();
  for (const run of runs) {
    if (run.stage && !byStage.has(run.stage)) {
      byStage.set(run.stage, run);
    }
  }
  return byStage;
}

/**
 * Running wins (an event or a RUNNING run, which also catches a CLI repro); then a newest run
 * that failed, while the stage is still stale; then the daemon's status.
 */
function stateOf(
  status: PipelineStatus["stages"][number]["state"],
  run: RunSummary | undefined,
  live: boolean,
): StageState {
  if (live || run?.status === "RUNNING") {
    return "running";
  }
  if (status === "frozen") {
    return "frozen";
  }
  const failed = run?.status === "FAILED" || run?.status === "KILLED";
  if (failed && status === "stale") {
    return "failed";
  }
  return status;
}

function describe(state: StageState, reasons: StageReason[], run: RunSummary | undefined): string {
  switch (state) {
    case "running":
      return "running…";
    case "failed":
      return run?.status === "KILLED"
        ? "cancelled"
        : `failed${run?.exitCode !== null && run?.exitCode !== undefined ? ` (exit ${run.exitCode})` : ""}`;
    case "stale":
      return reasons.length > 1
        ? `${reasons[0]!.message} (+${reasons.length - 1} more)`
        : (reasons[0]?.message ?? "stale");
    case "frozen":
      return "frozen";
    case "up-to-date":
      return "up to date";
  }
}

function tooltipOf(
  stage: PipelineDag["stages"][number],
  state: StageState,
  reasons: StageReason[],
  run: RunSummary | undefined,
): string {
  const lines = [`**${stage.name}** — ${LABELS[state]}`, "", `\`${stage.cmd}\``];
  if (stage.desc) {
    lines.push("", stage.desc);
  }
  if (stage.upstream.length) {
    lines.push("", `After: ${stage.upstream.join(", ")}`);
  }
  if (reasons.length) {
    lines.push("", ...reasons.map((r) => `- ${r.message}`));
  }
  if (run) {
    const when = new Date(run.startTime).toISOString().replace("T", " ").slice(0, 19);
    lines.push("", `Last run ${run.id.slice(0, 8)}: ${run.status} at ${when} UTC`);
  }
  return lines.join("\n");
}

export const LABELS: Record<StageState, string> = {
  running: "running",
  failed: "failed",
  stale: "stale",
  "up-to-date": "up to date",
  frozen: "frozen",
};
