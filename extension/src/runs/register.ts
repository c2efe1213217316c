/**
 * The Runs view and its commands, registered from extension.ts in one call: the tree (multi-select
 * for Compare), its filter and sort, and the context actions on runs and artifacts.
 */
import * as vscode from "vscode";
import type { DaemonConnection } from "../daemon/connection";
import { guarded } from "../vscode/errors";
import { readSettings } from "../vscode/settings";
import { openArtifact } from "./artifacts";
import { compareRuns } from "./compare/command";
import { chooseHeadlineMetric } from "./headlineCommand";
import { HeadlineMetrics } from "./headlineMetrics";
import type { RunsNode } from "./runNodes";
import { RunsQuery } from "./runsQuery";
import { RunsTreeProvider } from "./runsTree";
import { deleteRun, tagRun } from "./runActions";
import { rerunWithParams } from "./rerun";

export function registerRuns(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
  root: string,
): RunsTreeProvider {
  const query = new RunsQuery();
  const headlines = new HeadlineMetrics(
    context.workspaceState,
    () => readSettings().headlineMetric,
  );
  const runs = new RunsTreeProvider(daemon, query, headlines);
  const view = vscode.window.createTreeView<RunsNode>("lathe.runs", {
    treeDataProvider: runs,
    showCollapseAll: true,
    canSelectMany: true,
  });
  query.attach(view);
  context.subscriptions.push(
    query,
    runs,
    view,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("lathe.runs.pageSize")) {
        runs.restart();
      }
    }),
  );

  const command = (id: string, what: string, body: (...args: never[]) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(what, body)));
  command("lathe.compareRuns", "Comparing runs failed", (node?: RunsNode, nodes?: RunsNode[]) =>
    compareRuns(
      context,
      daemon,
      (run) => headlines.for(run.experimentName),
      node,
      nodes ?? (node ? undefined : [...view.selection]),
    ),
  );
  command(
    "lathe.runs.chooseHeadlineMetric",
    "Choosing the headline metric failed",
    async (node?: RunsNode) => {
      // From the palette: the experiment selected in the view, else a pick of experiments.
      const target = node ?? view.selection.find((n) => n.kind === "experiment");
      if (await chooseHeadlineMetric(daemon, headlines, target)) {
        runs.redraw();
      }
    },
  );
  command("lathe.runs.filter", "Filtering runs failed", () => query.editFilter());
  command("lathe.runs.sort", "Sorting runs failed", () => query.pickSort());
  command("lathe.runs.clearFilter", "Clearing the filter failed", () =>
    Promise.resolve(query.clear()),
  );
  command("lathe.runs.loadMore", "Loading more runs failed", (experimentId?: string) =>
    Promise.resolve(experimentId === undefined ? undefined : runs.loadMore(experimentId)),
  );
  command("lathe.revealRun", "Showing the run failed", (runId?: string) =>
    revealRun(runs, view, query, runId),
  );
  command("lathe.openArtifact", "Opening the artifact failed", (node?: RunsNode) =>
    openArtifact(daemon, root, node),
  );
  command("lathe.tagRun", "Tagging the run failed", (node?: RunsNode) => tagRun(daemon, node));
  command("lathe.deleteRun", "Deleting the run failed", (node?: RunsNode) =>
    deleteRun(daemon, node),
  );
  command("lathe.rerunWithParams", "Re-running failed", (node?: RunsNode) =>
    rerunWithParams(daemon, root, node),
  );
  return runs;
}

/** Selects run `runId` in the Runs view (the Models view's Open Run); says why when it cannot. */
async function revealRun(
  runs: RunsTreeProvider,
  view: vscode.TreeView<RunsNode>,
  query: RunsQuery,
  runId: string | undefined,
): Promise<boolean> {
  if (!runId) {
    return false;
  }
  const found = await runs.locate(runId);
  if ("missing" in found) {
    const clear = query.active ? "Clear Filter" : undefined;
    const picked = await vscode.window.showInformationMessage(
      found.missing,
      ...(clear ? [clear] : []),
    );
    if (picked === clear && clear) {
      query.clear();
      return revealRun(runs, view, query, runId);
    }
    return false;
  }
  await view.reveal(found, { select: true, focus: true, expand: true });
  return true;
}
