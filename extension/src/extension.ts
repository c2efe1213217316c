/**
 * Lathe's extension entry: connects to the workspace's daemon and wires the Runs and Models
 * views, the commands and the status bar item to it. Never loads a native module (DESIGN.md).
 */
import * as vscode from "vscode";
import { DaemonConnection } from "./daemon/connection";
import { createPipelineFile, findWorkspaceRoot, waitForWorkspace } from "./daemon/workspaceRoot";
import { deploy, undeploy, type DeployTarget } from "./models/deploy";
import { startPipelineLanguageClient } from "./pipelines/languageClient";
import { registerPipelinesView } from "./pipelines/pipelinesView";
import { runStage } from "./pipelines/runStage";
import { registerDeployments } from "./models/deploymentCommands";
import { Deployments } from "./models/deployments";
import { ModelsTreeProvider } from "./models/modelsTree";
import { registerModel } from "./models/register";
import { registerRegistryCommands } from "./models/registryCommands";
import { reproduce } from "./runs/reproduce";
import { openRunLog, RUN_LOG_SCHEME, RunLogProvider } from "./runs/runLog";
import { registerRuns } from "./runs/register";
import type { RunsNode } from "./runs/runsTree";
import { guarded } from "./vscode/errors";
import { createLog, log } from "./vscode/log";
import { readSettings } from "./vscode/settings";
import { StatusItem } from "./vscode/statusItem";

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(createLog());
  const version = (context.extension.packageJSON as { version?: string }).version ?? "unknown";
  log.info(`Lathe ${version} activating; settings:`, readSettings());
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("lathe")) {
        log.info("Settings changed:", readSettings());
      }
    }),
    vscode.commands.registerCommand("lathe.showLog", () => log.show()),
    vscode.commands.registerCommand("lathe.createPipeline", () => createPipelineFile()),
    // lathe.yaml editing needs no daemon: the language server starts in every workspace.
    startPipelineLanguageClient(context),
  );

  const folder = findWorkspaceRoot();
  if (folder) {
    startWorkspace(context, folder);
  } else {
    waitForWorkspace(context, (found) => startWorkspace(context, found));
  }
}

/** Connects to the daemon of `folder` and wires the views, commands and status item to it. */
function startWorkspace(context: vscode.ExtensionContext, folder: vscode.WorkspaceFolder): void {
  log.info(`Workspace root: ${folder.uri.fsPath}`);

  const daemon = new DaemonConnection(folder.uri.fsPath, context.asAbsolutePath("dist/lathe.js"));
  const deployments = new Deployments(daemon);
  const runs = registerRuns(context, daemon, folder.uri.fsPath);
  const models = new ModelsTreeProvider(daemon, deployments);
  const status = new StatusItem(daemon, deployments);
  const runLogs = new RunLogProvider(daemon);
  context.subscriptions.push(
    daemon,
    deployments,
    models,
    status,
    runLogs,
    vscode.window.createTreeView("lathe.models", { treeDataProvider: models }),
    vscode.workspace.registerTextDocumentContentProvider(RUN_LOG_SCHEME, runLogs),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("lathe.runs.headlineMetric")) {
        runs.refresh();
        models.refresh();
      }
    }),
  );

  const pipelines = registerPipelinesView(context, daemon);

  const command = (id: string, what: string, body: (...args: never[]) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(what, body)));
  command("lathe.reproduce", "Reproducing the pipeline failed", () => reproduce(daemon));
  command("lathe.registerModel", "Registering the model failed", (node?: RunsNode) =>
    registerModel(daemon, node),
  );
  command("lathe.deploy", "Deploying failed", (target?: DeployTarget) =>
    deploy(daemon, deployments, target),
  );
  command("lathe.undeploy", "Undeploying failed", (target?: DeployTarget) =>
    undeploy(daemon, deployments, target),
  );
  command("lathe.openRunLog", "Opening the run log failed", (node?: RunsNode) =>
    openRunLog(daemon, node, (run) => runs.headlines.for(run.experimentName)),
  );
  command("lathe.runStage", "Running the stage failed", (stage?: string) =>
    runStage(daemon, stage),
  );
  command("lathe.connect", "Connecting to the local service failed", () => daemon.connect());
  command("lathe.refresh", "Refreshing failed", async () => {
    runs.refresh();
    models.refresh();
    pipelines.refresh();
    await deployments.refresh();
  });
  command("lathe.deploymentActions", "Failed", () =>
    deploymentActions(status, deployments, daemon),
  );
  registerRegistryCommands(context, daemon, models); // promote, rollback, compare, card (#5)
  registerDeployments(context, daemon, deployments);

  void daemon.connect();
}

export function deactivate(): void {
  // The daemon outlives the editor on purpose: the CLI and running deployments share it.
}

/** What clicking the status bar item offers while a deployment is shown. */
async function deploymentActions(
  status: StatusItem,
  deployments: Deployments,
  daemon: DaemonConnection,
): Promise<void> {
  const shown = status.shown;
  if (!shown?.url) {
    log.show();
    return;
  }
  const picked = await vscode.window.showQuickPick(
    [
      { label: "$(copy) Copy URL", description: shown.url, action: "copy" as const },
      {
        label: "$(debug-stop) Undeploy",
        description: `${shown.model} v${shown.version}`,
        action: "undeploy" as const,
      },
      { label: "$(play) Try It", action: "try" as const },
      { label: "$(output) Show Log", action: "log" as const },
    ],
    { title: `${shown.model} v${shown.version}` },
  );
  switch (picked?.action) {
    case "copy":
      await vscode.env.clipboard.writeText(shown.url);
      return;
    case "undeploy":
      return undeploy(daemon, deployments, { model: shown.model, version: shown.version });
    case "try":
      return vscode.commands.executeCommand("lathe.deployments.tryIt", {
        kind: "deployment",
        deployment: shown,
      });
    case "log":
      log.show();
      return;
    case undefined:
      return;
  }
}
