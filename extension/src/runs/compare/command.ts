/** "Lathe: Compare Runs": the runs selected in the Runs view, or picked from a list. */
import * as vscode from "vscode";
import type { RunSummary } from "../../../../schemas/api";
import type { DaemonConnection } from "../../daemon/connection";
import { runPickItem } from "../format";
import { listRuns } from "../runLog";
import type { RunsNode } from "../runNodes";
import { openComparePanel } from "./panel";

/** The history route and POST runs/compare take at most 50 runs. */
export const MAX_COMPARED = 50;

export async function compareRuns(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
  /** A run's headline metric (its experiment's), for the pick's descriptions. */
  headlineFor: (run: RunSummary) => string,
  clicked?: RunsNode,
  selected?: RunsNode[],
): Promise<void> {
  const fromTree = (selected?.length ? selected : clicked ? [clicked] : []).flatMap((n) =>
    n.kind === "run" ? [n.run] : [],
  );
  const runs = fromTree.length > 0 ? fromTree : await pickRuns(daemon, headlineFor);
  if (!runs || runs.length === 0) {
    return;
  }
  if (runs.length > MAX_COMPARED) {
    void vscode.window.showWarningMessage(
      `Compare shows at most ${MAX_COMPARED} runs; the first ${MAX_COMPARED} of ${runs.length} are shown.`,
    );
  }
  openComparePanel(context, daemon, runs.slice(0, MAX_COMPARED));
}

async function pickRuns(
  daemon: DaemonConnection,
  headlineFor: (run: RunSummary) => string,
): Promise<RunSummary[] | undefined> {
  const runs = (await listRuns(daemon)).filter((r) => Object.keys(r.metrics).length > 0);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(
      "No run has logged metrics yet. Reproduce the pipeline, or log metrics from training code.",
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => runPickItem(run, headlineFor(run))),
    { title: "Compare Runs", placeHolder: "Pick the runs to compare", canPickMany: true },
  );
  return picked?.map((p) => p.run);
}
