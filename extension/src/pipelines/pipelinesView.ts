/**
 * Registers the Pipelines view (`lathe.pipelines`) and its commands: Run Stage, Run Downstream,
 * Open lathe.yaml at the Stage, Show Log of the stage's last run, Cancel and Refresh.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import type { DaemonConnection } from "../daemon/connection";
import { openRunLog } from "../runs/runLog";
import { guarded } from "../vscode/errors";
import { PipelinesTreeProvider, type PipelinesNode } from "./pipelinesTree";
import { runPipeline } from "./pipelineRun";
import { cancelPipelineRun } from "./reproProgress";

export function registerPipelinesView(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
): PipelinesTreeProvider {
  const tree = new PipelinesTreeProvider(daemon);
  const view = vscode.window.createTreeView("lathe.pipelines", { treeDataProvider: tree });
  context.subscriptions.push(tree, view);

  const command = (id: string, what: string, body: (...args: never[]) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(what, body)));
  const stageOf = async (node?: PipelinesNode) =>
    node?.kind === "stage" ? node.stage.name : await pickStage(tree);

  command("lathe.pipelines.runStage", "Running the stage failed", async (node?: PipelinesNode) => {
    const stage = await stageOf(node);
    if (stage) {
      await runPipeline(daemon, tree, { stages: [stage] });
    }
  });
  command(
    "lathe.pipelines.runDownstream",
    "Running the stage and its dependants failed",
    async (node?: PipelinesNode) => {
      const stage = await stageOf(node);
      if (stage) {
        await runPipeline(daemon, tree, { stages: [stage], downstream: true });
      }
    },
  );
  command("lathe.pipelines.openStage", "Opening the pipeline file failed", (node?: PipelinesNode) =>
    openStage(daemon.root, node),
  );
  command(
    "lathe.pipelines.showStageLog",
    "Opening the stage's log failed",
    async (node?: PipelinesNode) => {
      const name = await stageOf(node);
      const stage = tree.shown.find((s) => s.name === name);
      if (!stage) {
        return;
      }
      if (!stage.lastRunId) {
        void vscode.window.showInformationMessage(
          `Stage '${stage.name}' has not run yet: run it first.`,
        );
        return;
      }
      await openRunLog(daemon, stage.lastRunId);
    },
  );
  command("lathe.pipelines.cancel", "Cancelling the pipeline failed", () =>
    cancelPipelineRun(daemon),
  );
  command("lathe.pipelines.refresh", "Refreshing the pipeline failed", () => {
    tree.refresh();
    return Promise.resolve();
  });
  return tree;
}

async function pickStage(tree: PipelinesTreeProvider): Promise<string | undefined> {
  const picked = await vscode.window.showQuickPick(
    tree.shown.map((s) => ({ label: s.name, description: s.description })),
    { title: "Pick a stage" },
  );
  return picked?.label;
}

/** Opens the pipeline file with the cursor on the stage's name (or on the error's place). */
async function openStage(root: string, node?: PipelinesNode): Promise<void> {
  const file =
    node?.file ?? ["lathe.yaml", "dvc.yaml"].find((f) => existsSync(join(root, f))) ?? "lathe.yaml";
  const [line, col] =
    node?.kind === "stage" ? [node.stage.line, node.stage.col] : [node?.line ?? 1, node?.col ?? 1];
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(root, file)));
  const at = new vscode.Position(Math.max(0, line - 1), Math.max(0, col - 1));
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(at, at) });
}
