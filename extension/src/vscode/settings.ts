/** Lathe's settings (package.json `contributes.configuration`), read in one place. */
import * as vscode from "vscode";

export interface Settings {
  /** The node binary that runs the daemon (`lathe.nodePath`). */
  nodePath: string;
  /** The metric shown in a run's description (`lathe.runs.headlineMetric`). */
  headlineMetric: string;
  /** Independent stages run at once from the Pipelines view (`lathe.pipeline.jobs`). */
  pipelineJobs: number;
  /** Aliases Promote offers before the model's own (`lathe.models.aliases`). */
  modelAliases: string[];
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("lathe");
  return {
    nodePath: config.get<string>("nodePath")?.trim() || "node",
    headlineMetric: config.get<string>("runs.headlineMetric")?.trim() || "accuracy",
    pipelineJobs: Math.min(64, Math.max(1, Math.floor(config.get<number>("pipeline.jobs") ?? 1))),
    modelAliases: config.get<string[]>("models.aliases") ?? ["champion", "challenger"],
  };
}
