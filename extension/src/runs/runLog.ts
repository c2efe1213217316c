/** "Lathe: Open Run Log": a run's captured output in an editor tab. */
import * as vscode from "vscode";
import type { Experiment, RunDetail, RunSummary } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { runDescription } from "./format";
import type { RunsNode } from "./runsTree";
import { readSettings } from "../vscode/settings";

export async function openRunLog(
  daemon: DaemonConnection,
  target?: RunsNode | string,
): Promise<void> {
  const runId =
    typeof target === "string"
      ? target
      : target && "run" in target
        ? target.run.id
        : await pickRun(daemon);
  if (!runId) {
    return;
  }
  const run = await daemon.call<RunDetail>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`);
  const header = [
    `# ${run.name} — run ${run.id} — ${run.status.toLowerCase()}${run.exitCode === null ? "" : ` (exit ${run.exitCode})`}`,
    run.command ? `$ ${run.command}` : undefined,
    "",
  ].filter((line) => line !== undefined);
  const body = run.log || "(this run logged no output)";
  const error = run.error ? `\n\n# error\n${run.error}` : "";
  const doc = await vscode.workspace.openTextDocument({
    content: `${header.join("\n")}\n${body}${error}\n`,
    language: "log",
  });
  await vscode.window.showTextDocument(doc, { preview: true });
}

/** Every run of every experiment, newest first, as [experiment, run] pairs. */
export async function listRuns(daemon: DaemonConnection): Promise<RunSummary[]> {
  const experiments = await daemon.call<Experiment[]>("GET", "/api/v1/experiments");
  const lists = await Promise.all(
    experiments.map((e) =>
      daemon.call<RunSummary[]>("GET", `/api/v1/runs?experiment=${encodeURIComponent(e.id)}`),
    ),
  );
  return lists.flat().sort((a, b) => b.startTime - a.startTime);
}

async function pickRun(daemon: DaemonConnection): Promise<string | undefined> {
  const runs = await listRuns(daemon);
  const { headlineMetric } = readSettings();
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: run.name,
      description: runDescription(run, headlineMetric),
      detail: `${run.experimentName} · ${new Date(run.startTime).toLocaleString()} · ${run.id}`,
      runId: run.id,
    })),
    { title: "Open Run Log", placeHolder: runs.length ? "Pick a run" : "No runs yet" },
  );
  return picked?.runId;
}
