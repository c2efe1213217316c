/** Lathe's settings (package.json `contributes.configuration`), read in one place. */
import * as vscode from "vscode";
import type { ViewDefaults, XAxis } from "../../../schemas/webview";

export interface Settings {
  /** The node binary that runs the daemon (`lathe.nodePath`). */
  nodePath: string;
  /** The metric shown in a run's description (`lathe.runs.headlineMetric`). */
  headlineMetric: string;
  /** Top-level runs per page of an experiment in the Runs view (`lathe.runs.pageSize`). */
  runsPageSize: number;
  /** Independent stages run at once from the Pipelines view (`lathe.pipeline.jobs`). */
  pipelineJobs: number;
  /** Aliases Promote offers before the model's own (`lathe.models.aliases`). */
  modelAliases: string[];
  /** How the Compare view opens (`lathe.compare.*`). */
  compare: ViewDefaults;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("lathe");
  const x = config.get<string>("compare.xAxis");
  return {
    nodePath: config.get<string>("nodePath")?.trim() || "node",
    headlineMetric: config.get<string>("runs.headlineMetric")?.trim() || "accuracy",
    runsPageSize: Math.round(clamp(config.get<number>("runs.pageSize") ?? 200, 10, 5000)),
    pipelineJobs: Math.min(64, Math.max(1, Math.floor(config.get<number>("pipeline.jobs") ?? 1))),
    modelAliases: config.get<string[]>("models.aliases") ?? ["champion", "challenger"],
    compare: {
      x: x === "time" ? "time" : ("step" satisfies XAxis),
      logScale: config.get<boolean>("compare.logScale") ?? false,
      smoothing: clamp(config.get<number>("compare.smoothing") ?? 0.6, 0, 0.99),
      points: Math.round(clamp(config.get<number>("compare.points") ?? 2000, 10, 100_000)),
    },
  };
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
