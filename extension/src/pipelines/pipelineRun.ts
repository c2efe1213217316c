/**
 * Runs stages from the Pipelines view: `POST pipeline/repro` with a cancellable progress
 * notification naming the stage at work; Cancel calls `POST pipeline/cancel`, which kills the
 * running stages' process groups. The result is a short toast; a failure offers its log.
 */
import * as vscode from "vscode";
import type { ReproRequest, ReproResult } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { openRunLog } from "../runs/runLog";
import { messageOf } from "../vscode/errors";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import type { PipelinesTreeProvider } from "./pipelinesTree";

/** A whole pipeline can train for hours; the call waits for it. */
const REPRO_TIMEOUT_MS = 6 * 60 * 60 * 1000;

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
  let cancelled = false;
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Lathe: running ${what}`,
        cancellable: true,
      },
      async (progress, token) => {
        const cancel = token.onCancellationRequested(() => {
          cancelled = true;
          void cancelPipelineRun(daemon);
        });
        const sub = daemon.onEvent((event) => {
          if (event.type === "repro/progress") {
            progress.report({ message: `${event.stage} ${event.status}` });
          }
        });
        try {
          progress.report({ message: "checking stages…" });
          return await daemon.call<ReproResult>(
            "POST",
            "/api/v1/pipeline/repro",
            body,
            REPRO_TIMEOUT_MS,
          );
        } finally {
          sub.dispose();
          cancel.dispose();
        }
      },
    );
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

export async function cancelPipelineRun(daemon: DaemonConnection): Promise<void> {
  const answer = await daemon.call<{ cancelled: boolean }>("POST", "/api/v1/pipeline/cancel", {});
  log.info(answer.cancelled ? "Cancelled the running repro" : "No repro was running to cancel");
  if (!answer.cancelled) {
    void vscode.window.showInformationMessage("No pipeline run is in progress.");
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
