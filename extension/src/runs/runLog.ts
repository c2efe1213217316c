/** "Lathe: Open Run Log": a run's captured output in an editor tab. */
import * as vscode from "vscode";
import type { Experiment, RunDetail, RunSummary } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { runPickItem } from "./format";
import type { RunsNode } from "./runsTree";
import { readSettings } from "../vscode/settings";

/** Run logs open as read-only `lathe-run:` documents, so closing one never asks to save it. */
export const RUN_LOG_SCHEME = "lathe-run";

export class RunLogProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.changed.event;

  constructor(private readonly daemon: DaemonConnection) {
    // An open log of a running stage follows it: the daemon says when the run changed.
    this.subscription = daemon.onEvent((event) => {
      if (event.type !== "runs/changed") {
        return;
      }
      for (const doc of vscode.workspace.textDocuments) {
        if (doc.uri.scheme === RUN_LOG_SCHEME && doc.uri.query === event.runId) {
          this.changed.fire(doc.uri);
        }
      }
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const run = await this.daemon.call<RunDetail>(
      "GET",
      `/api/v1/runs/${encodeURIComponent(uri.query)}`,
    );
    const exit = run.exitCode === null ? "" : ` (exit ${run.exitCode})`;
    const header = [`# ${run.name} — run ${run.id} — ${run.status.toLowerCase()}${exit}`];
    if (run.command) {
      header.push(`$ ${run.command}`);
    }
    const body = run.log || "(this run logged no output)";
    const error = run.error ? `\n\n# error\n${run.error}` : "";
    return `${header.join("\n")}\n\n${body.trimEnd()}${error}\n`;
  }
}

/**
 * Opens a run's log: the run of a Runs view node, a run id, or one picked from every run (each
 * described with `headlineFor` it, its experiment's headline metric).
 */
export async function openRunLog(
  daemon: DaemonConnection,
  target?: RunsNode | string,
  headlineFor: (run: RunSummary) => string = () => readSettings().headlineMetric,
): Promise<void> {
  const run =
    typeof target === "string"
      ? target
      : target && "run" in target
        ? target.run
        : await pickRun(daemon, headlineFor);
  if (!run) {
    return;
  }
  const summary =
    typeof run === "string"
      ? await daemon.call<RunSummary>("GET", `/api/v1/runs/${encodeURIComponent(run)}`)
      : run;
  const uri = vscode.Uri.from({
    scheme: RUN_LOG_SCHEME,
    path: `/${summary.name}-${summary.id.slice(0, 7)}.log`,
    query: summary.id,
  });
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, "log");
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

async function pickRun(
  daemon: DaemonConnection,
  headlineFor: (run: RunSummary) => string,
): Promise<RunSummary | undefined> {
  const runs = await listRuns(daemon);
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => runPickItem(run, headlineFor(run))),
    { title: "Open Run Log", placeHolder: runs.length ? "Pick a run" : "No runs yet" },
  );
  return picked?.run;
}
