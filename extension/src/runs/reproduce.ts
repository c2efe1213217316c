/** "Lathe: Reproduce Pipeline": runs the stale stages, with the current stage shown as progress. */
import * as vscode from "vscode";
import type { ReproRequest, ReproResult, RunDetail, StageResult } from "../../../schemas/api";
import { LatheError } from "../../../daemon/src/errors";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";
import { messageOf } from "../vscode/errors";
import { assertNever } from "./format";
import { reproWithProgress } from "../pipelines/reproProgress";
import { openRunLog } from "./runLog";

let running = false;

export async function reproduce(
  daemon: DaemonConnection,
  request: ReproRequest = {},
): Promise<void> {
  if (running) {
    void vscode.window.showInformationMessage("A pipeline reproduction is already running.");
    return;
  }
  running = true;
  const started = Date.now();
  log.info("Reproducing the pipeline", request);
  let outcome: { result: ReproResult } | { error: unknown };
  try {
    const { result } = await reproWithProgress(daemon, request, {
      title: "Lathe: reproducing the pipeline",
      describe: (event) => progressMessage(event.stage, event.status),
    });
    outcome = { result };
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log.info(`Reproduction finished in ${seconds}s`, outcome.result.stages);
  } catch (error) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log.error(`Reproduction failed after ${seconds}s:`, error);
    outcome = { error };
  } finally {
    // Before the result is shown: a toast left open must not block the next run.
    running = false;
  }
  if ("result" in outcome) {
    await reportResult(daemon, outcome.result);
  } else {
    await reportFailure(daemon, outcome.error);
  }
}

function progressMessage(stage: string, status: StageResult["status"] | "running"): string {
  switch (status) {
    case "running":
      return `running ${stage}…`;
    case "ran":
      return `${stage} done`;
    case "restored":
      return `${stage} restored from the run cache`;
    case "skipped":
      return `${stage} up to date`;
    case "failed":
      return `${stage} failed`;
    case "not-run":
      return `${stage} not run`;
    default:
      return assertNever(status);
  }
}

async function reportResult(daemon: DaemonConnection, result: ReproResult): Promise<void> {
  const ran = result.stages.filter((s) => s.status === "ran" || s.status === "restored").length;
  const skipped = result.stages.filter((s) => s.status === "skipped").length;
  const failed = result.stages.find((s) => s.status === "failed");
  if (result.ok || !failed) {
    void vscode.window.showInformationMessage(
      `Pipeline reproduced: ${ran} ran, ${skipped} skipped`,
    );
    return;
  }
  const exit = failed.runId ? await exitCodeOf(daemon, failed.runId) : null;
  const choice = await vscode.window.showErrorMessage(
    `Stage '${failed.stage}' failed${exit === null ? "" : ` (exit ${exit})`}`,
    "Open Log",
  );
  if (choice === "Open Log") {
    if (failed.runId) {
      await openRunLog(daemon, failed.runId);
    } else {
      log.show();
    }
  }
}

/** The daemon may answer a failed stage with a coded error instead of `ok: false`. */
async function reportFailure(daemon: DaemonConnection, err: unknown): Promise<void> {
  const runId =
    err instanceof LatheError && typeof err.data.runId === "string" ? err.data.runId : undefined;
  const stage =
    err instanceof LatheError && typeof err.data.stage === "string" ? err.data.stage : undefined;
  const exitCode =
    err instanceof LatheError && typeof err.data.exitCode === "number"
      ? err.data.exitCode
      : undefined;
  const message = stage
    ? `Stage '${stage}' failed${exitCode === undefined ? "" : ` (exit ${exitCode})`}`
    : `Reproducing the pipeline failed: ${messageOf(err)}`;
  const choice = await vscode.window.showErrorMessage(message, "Open Log");
  if (choice === "Open Log") {
    if (runId) {
      await openRunLog(daemon, runId);
    } else {
      log.show();
    }
  }
}

async function exitCodeOf(daemon: DaemonConnection, runId: string): Promise<number | null> {
  try {
    return (await daemon.call<RunDetail>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`))
      .exitCode;
  } catch {
    return null;
  }
}
