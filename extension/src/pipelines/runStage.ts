/**
 * "Run stage" (the code lens above each stage in lathe.yaml): reproduces that one stage. Above a
 * foreach/matrix stage the lens is "Run group" and passes the written name, which the daemon's
 * repro takes for every stage it generates (daemon/src/pipeline/dag.ts selectStages).
 */
import * as vscode from "vscode";
import type { DaemonConnection } from "../daemon/connection";
import { reproduce } from "../runs/reproduce";

export async function runStage(daemon: DaemonConnection, stage?: string): Promise<void> {
  const name =
    stage ??
    (await vscode.window.showInputBox({
      title: "Run stage",
      prompt:
        "The stage's name in lathe.yaml (a foreach/matrix stage's name runs all it generates)",
    }));
  if (!name) {
    return;
  }
  await reproduce(daemon, { stages: [name] });
}
