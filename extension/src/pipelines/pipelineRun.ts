/**
 * Runs stages from the Pipelines view through reproWithProgress (cancellable, naming the stage at
 * work). The result is a short toast; a failure offers its log.
 */
import * as vscode from "vscode";
import type { ReproRequest, ReproResult } from "../../../schemas/api";
import { reproWithProgress } from "./reproProgress";
import type { DaemonConnection } from "../daemon/connection";
import { openRunLog } from "../runs/runLog";
import { messageOf } from "../vscode/errors";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import type { PipelinesTreeProvider } from "./pipelinesTree";

export async function runPipeline(
  daemon: DaemonConnection,
  tree: PipelinesTreeProvider,
  request: ReproRequest,
): Promise<void> {
  const body: ReproRequest = { ...request, jobs: readSettings().pipelineJobs };
  const what = request.downstream
    ? `${request.stages?.join(", ")} and downstream`
    : (request.stages?.join(", ") ?? "the pipeline");
  log.info("Running from the Pipelines view", body);
  const started = Date.now();
  try {
    const { result, cancelled } = await reproWithProgress(daemon, body, {
      title: `Lathe: running ${what}`,
      describe: (event) => `${event.stage} ${event.status}`,
    });
    log.info(`Pipeline run finished in ${Date.now() - started}ms`, result.stages);
    await report(daemon, result, cancelled);
  } catch (err) {
    log.error("Running the pipeline failed:", err);
    const choice = await vscode.window.showErrorMessage(
      `Running ${what} failed: ${messageOf(err)}`,
      "Open Log",
    );
    if (choice === "Open Log") {
      log.show();
    }
  } finally {
    tree.clearRunning();
  }
}

async function report(daemon: DaemonConnection, result: ReproResult, cancelled: boolean) {
  const failed = result.stages.find((s) => s.status === "failed");
  if (cancelled) {
    void vscode.window.showWarningMessage(
      "Pipeline run cancelled: its running stages were stopped.",
    );
    return;
  }
  if (!failed) {
    const count = (status: string) => result.stages.filter((s) => s.status === status).length;
    const ran = count("ran") + count("restored");
    void vscode.window.showInformationMessage(
      `Stages done: ${ran} ran, ${count("skipped")} up to date`,
    );
    return;
  }
  const choice = await vscode.window.showErrorMessage(
    `Stage '${failed.stage}' failed (${failed.reason})`,
    "Show Log",
  );
  if (choice === "Show Log" && failed.runId) {
    await openRunLog(daemon, failed.runId);
  }
}
