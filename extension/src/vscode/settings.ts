/** Lathe's settings (package.json `contributes.configuration`), read in one place. */
import * as vscode from "vscode";

export interface Settings {
  /** The node binary that runs the daemon (`lathe.nodePath`). */
  nodePath: string;
  /** The metric shown in a run's description (`lathe.runs.headlineMetric`). */
  headlineMetric: string;
  /** Aliases Promote offers before the model's own (`lathe.models.aliases`). */
  modelAliases: string[];
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("lathe");
  return {
    nodePath: config.get<string>("nodePath")?.trim() || "node",
    headlineMetric: config.get<string>("runs.headlineMetric")?.trim() || "accuracy",
    modelAliases: config.get<string[]>("models.aliases") ?? ["champion", "challenger"],
  };
}
