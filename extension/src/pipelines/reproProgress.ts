/**
 * `POST pipeline/repro` under a cancellable progress notification that names the stage at work.
 * Cancel calls `POST pipeline/cancel`, which kills the running stages' process groups. Shared by
 * "Lathe: Reproduce Pipeline" and the Pipelines view's Run Stage / Run Downstream.
 */
import * as vscode from "vscode";
import type { DaemonEvent, ReproRequest, ReproResult } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";

/** A whole pipeline can train for hours; the call waits for it. */
const REPRO_TIMEOUT_MS = 6 * 60 * 60 * 1000;

type Progress = Extract<DaemonEvent, { type: "repro/progress" }>;

export async function reproWithProgress(
  daemon: DaemonConnection,
  request: ReproRequest,
  { title, describe }: { title: string; describe: (event: Progress) => string },
): Promise<{ result: ReproResult; cancelled: boolean }> {
  let cancelled = false;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const subs = [
        daemon.onEvent((event) => {
          if (event.type === "repro/progress") {
            progress.report({ message: describe(event) });
          }
        }),
        token.onCancellationRequested(() => {
          cancelled = true;
          progress.report({ message: "cancelling…" });
          cancelPipelineRun(daemon).catch((err: unknown) =>
            log.error("Cancelling the pipeline run failed:", err),
          );
        }),
      ];
      try {
        progress.report({ message: "checking stages…" });
        return await daemon.call<ReproResult>(
          "POST",
          "/api/v1/pipeline/repro",
          request,
          REPRO_TIMEOUT_MS,
        );
      } finally {
        for (const sub of subs) {
          sub.dispose();
        }
      }
    },
  );
  return { result, cancelled };
}

export async function cancelPipelineRun(daemon: DaemonConnection): Promise<void> {
  const answer = await daemon.call<{ cancelled: boolean }>("POST", "/api/v1/pipeline/cancel", {});
  log.info(answer.cancelled ? "Cancelled the running repro" : "No repro was running to cancel");
  if (!answer.cancelled) {
    void vscode.window.showInformationMessage("No pipeline run is in progress.");
  }
}
