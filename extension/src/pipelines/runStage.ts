/** "Run stage" (the code lens above each stage in lathe.yaml): reproduces that one stage. */
import * as vscode from "vscode";
import type { DaemonConnection } from "../daemon/connection";
import { reproduce } from "../runs/reproduce";

export async function runStage(daemon: DaemonConnection, stage?: string): Promise<void> {
  const name =
    stage ??
    (await vscode.window.showInputBox({
      title: "Run stage",
      prompt: "The stage's name in lathe.yaml",
    }));
  if (!name) {
    return;
  }
  await reproduce(daemon, { stages: [name] });
}
