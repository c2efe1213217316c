/**
 * The Runs view's nodes and how each one looks: experiments → runs → Params, Metrics, Artifacts,
 * Data and the git commit. Items only; fetching lives in runsTree.ts.
 */
import * as vscode from "vscode";
import type { Experiment, RunStatus, RunSummary } from "../../../schemas/api";
import { assertNever, runDescription, shortId } from "./format";

export type GroupKind = "params" | "metrics" | "artifacts" | "data";

export type RunsNode =
  | { kind: "experiment"; experiment: Experiment }
  | { kind: "run"; run: RunSummary; children: RunSummary[]; newest: boolean }
  | { kind: "group"; run: RunSummary; group: GroupKind }
  | { kind: "value"; run: RunSummary; group: GroupKind | "git"; key: string; value: string }
  /** A file the run logged (MLflow artifacts) or a stage output (`oid` set), or a folder of them. */
  | { kind: "artifact"; run: RunSummary; path: string; isDir: boolean; oid: string | null }
  /** Last under an experiment while it has more runs than the pages shown. */
  | { kind: "more"; experiment: Experiment; shown: number };

/**
 * An experiment: its run count (or matches), and in its tooltip the headline metric its runs
 * show, `chosen` for this experiment or else the setting's.
 */
export function experimentItem(
  experiment: Experiment,
  headline: { metric: string; chosen: boolean },
  shown?: number,
): vscode.TreeItem {
  const item = new vscode.TreeItem(experiment.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `experiment:${experiment.id}`;
  const count = shown ?? experiment.runCount;
  item.description = `${count} run${count === 1 ? "" : "s"}${shown === undefined ? "" : " match"}`;
  item.tooltip = `${experiment.name}\nHeadline metric: ${headline.metric} (${headline.chosen ? "chosen for this experiment" : "setting lathe.runs.headlineMetric"}); Choose Headline Metric… changes it.`;
  item.iconPath = new vscode.ThemeIcon("beaker");
  item.contextValue = "lathe.experiment";
  return item;
}

/** A run, described with `headlineMetric` (its experiment's). */
export function runItem(
  node: Extract<RunsNode, { kind: "run" }>,
  headlineMetric: string,
): vscode.TreeItem {
  const { run } = node;
  const isParent = node.children.length > 0;
  const state =
    isParent && node.newest
      ? vscode.TreeItemCollapsibleState.Expanded
      : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(run.name, state);
  item.id = `run:${run.id}`;
  item.description = isParent
    ? `${startLabel(run.startTime)} · ${runDescription({ ...run, metrics: {} }, headlineMetric)}`
    : runDescription(run, headlineMetric);
  item.iconPath = statusIcon(run.status);
  item.tooltip = runTooltip(run);
  // lathe.run / lathe.reproRun, with ".stage" when it ran a pipeline stage (so it can re-run).
  item.contextValue = `${isParent ? "lathe.reproRun" : "lathe.run"}${run.stage ? ".stage" : ""}`;
  return item;
}

const GROUPS: Record<GroupKind, { label: string; icon: string }> = {
  params: { label: "Params", icon: "settings" },
  metrics: { label: "Metrics", icon: "graph" },
  artifacts: { label: "Artifacts", icon: "file-binary" },
  data: { label: "Data", icon: "database" },
};

export function groupItem(node: Extract<RunsNode, { kind: "group" }>): vscode.TreeItem {
  const { label, icon } = GROUPS[node.group];
  const open = node.group === "params" || node.group === "metrics";
  const item = new vscode.TreeItem(
    label,
    open ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = `${node.group}:${node.run.id}`;
  item.iconPath = new vscode.ThemeIcon(icon);
  return item;
}

export function valueItem(node: Extract<RunsNode, { kind: "value" }>): vscode.TreeItem {
  if (node.group === "git") {
    const item = new vscode.TreeItem(`commit ${node.value}`, vscode.TreeItemCollapsibleState.None);
    item.id = `git:${node.run.id}`;
    item.iconPath = new vscode.ThemeIcon("git-commit");
    item.tooltip = node.key;
    return item;
  }
  const item = new vscode.TreeItem(
    `${node.key} = ${node.value}`,
    vscode.TreeItemCollapsibleState.None,
  );
  item.id = `${node.group}:${node.run.id}:${node.key}`;
  item.tooltip = `${node.key} = ${node.value}`;
  return item;
}

export function artifactItem(node: Extract<RunsNode, { kind: "artifact" }>): vscode.TreeItem {
  const name = node.path.split("/").at(-1) ?? node.path;
  const item = new vscode.TreeItem(
    name,
    node.isDir ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `artifact:${node.run.id}:${node.oid ? "out" : "log"}:${node.path}`;
  item.resourceUri = vscode.Uri.file(`/${node.path}`); // for the file-type icon only
  item.description = node.oid ? `output · ${shortId(node.oid)}` : undefined;
  item.tooltip = node.oid ? `${node.path}\n${node.oid}` : node.path;
  if (!node.isDir) {
    item.contextValue = "lathe.artifact";
    item.command = { command: "lathe.openArtifact", title: "Open Artifact", arguments: [node] };
  }
  return item;
}

export function moreItem(node: Extract<RunsNode, { kind: "more" }>, pageSize: number) {
  const item = new vscode.TreeItem("Load more…", vscode.TreeItemCollapsibleState.None);
  item.id = `more:${node.experiment.id}:${node.shown}`;
  item.iconPath = new vscode.ThemeIcon("ellipsis");
  item.description = `${node.shown} shown, next ${pageSize}`;
  item.tooltip = `Load the next ${pageSize} runs of ${node.experiment.name} (setting lathe.runs.pageSize).`;
  item.command = {
    command: "lathe.runs.loadMore",
    title: "Load More Runs",
    arguments: [node.experiment.id],
  };
  return item;
}

export function statusIcon(status: RunStatus): vscode.ThemeIcon {
  switch (status) {
    case "FINISHED":
      return new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed"));
    case "FAILED":
      return new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed"));
    case "RUNNING":
      return new vscode.ThemeIcon("loading~spin", new vscode.ThemeColor("testing.runAction"));
    case "KILLED":
      return new vscode.ThemeIcon("circle-slash", new vscode.ThemeColor("testing.iconErrored"));
    case "SKIPPED":
      return new vscode.ThemeIcon("debug-step-over", new vscode.ThemeColor("testing.iconSkipped"));
    default:
      return assertNever(status);
  }
}

function runTooltip(run: RunSummary): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escape(run.name)}** — ${run.status.toLowerCase()}\n\n`);
  md.appendMarkdown(`Run \`${run.id}\`\n\n`);
  if (run.command) {
    md.appendMarkdown("Command: ");
    md.appendCodeblock(run.command, "shell");
  }
  if (run.gitCommit) {
    md.appendMarkdown(`Commit \`${shortId(run.gitCommit)}\`${run.gitDirty ? " (dirty)" : ""}\n\n`);
  }
  const tags = Object.entries(run.tags).filter(([k]) => !k.startsWith("mlflow."));
  if (tags.length > 0) {
    md.appendMarkdown(`Tags: ${tags.map(([k, v]) => `\`${k}=${v}\``).join(" ")}\n\n`);
  }
  md.appendMarkdown(`Started ${new Date(run.startTime).toLocaleString()}`);
  if (run.exitCode !== null && run.exitCode !== 0) {
    md.appendMarkdown(`\n\nExit code ${run.exitCode}`);
  }
  return md;
}

function startLabel(time: number): string {
  const date = new Date(time);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString(undefined, {
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, "\\$&");
}
