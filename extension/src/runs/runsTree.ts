/**
 * The Runs view: experiments → runs (newest first) → stage runs of a repro → Params and Metrics.
 * Refreshed from the daemon's events (debounced), never by polling.
 */
import * as vscode from "vscode";
import type { Experiment, RunStatus, RunSummary } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import { assertNever, formatMetric, runDescription, shortId } from "./format";

export type RunsNode =
  | { kind: "experiment"; experiment: Experiment }
  | { kind: "run"; run: RunSummary; children: RunSummary[]; newest: boolean }
  | { kind: "group"; run: RunSummary; group: "params" | "metrics" }
  | { kind: "value"; run: RunSummary; group: "params" | "metrics"; key: string; value: string };

const REFRESH_DEBOUNCE_MS = 250;

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly daemon: DaemonConnection) {
    this.disposables.push(
      daemon.onDidChangeState(() => this.refresh()),
      daemon.onEvent((event) => {
        if (event.type === "runs/changed") {
          this.refresh();
        }
      }),
    );
  }

  /** Schedules a refresh; bursts of events (a repro emits many) become one. */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), REFRESH_DEBOUNCE_MS);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (this.daemon.state.kind !== "up") {
      return [];
    }
    try {
      return await this.childrenOf(node);
    } catch (err) {
      log.warn("Could not list runs:", err);
      return [];
    }
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case "experiment":
        return experimentItem(node.experiment);
      case "run":
        return runItem(node);
      case "group":
        return groupItem(node);
      case "value":
        return valueItem(node);
      default:
        return assertNever(node);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }

  private async childrenOf(node: RunsNode | undefined): Promise<RunsNode[]> {
    if (!node) {
      const experiments = await this.daemon.call<Experiment[]>("GET", "/api/v1/experiments");
      return experiments
        .filter((e) => e.runCount > 0)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map((experiment) => ({ kind: "experiment", experiment }));
    }
    switch (node.kind) {
      case "experiment":
        return this.runsOf(node.experiment);
      case "run":
        return runChildren(node);
      case "group":
        return groupValues(node);
      case "value":
        return [];
      default:
        return assertNever(node);
    }
  }

  private async runsOf(experiment: Experiment): Promise<RunsNode[]> {
    const runs = await this.daemon.call<RunSummary[]>(
      "GET",
      `/api/v1/runs?experiment=${encodeURIComponent(experiment.id)}`,
    );
    const ids = new Set(runs.map((r) => r.id));
    const top = runs
      .filter((r) => r.parentId === null || !ids.has(r.parentId))
      .sort((a, b) => b.startTime - a.startTime);
    return top.map((run, i) => ({
      kind: "run",
      run,
      // Stage runs read in the order they ran.
      children: runs.filter((r) => r.parentId === run.id).sort((a, b) => a.startTime - b.startTime),
      newest: i === 0,
    }));
  }
}

function runChildren(node: Extract<RunsNode, { kind: "run" }>): RunsNode[] {
  const stages: RunsNode[] = node.children.map((run) => ({
    kind: "run",
    run,
    children: [],
    newest: false,
  }));
  const groups: RunsNode[] = [];
  if (Object.keys(node.run.params).length > 0) {
    groups.push({ kind: "group", run: node.run, group: "params" });
  }
  if (Object.keys(node.run.metrics).length > 0) {
    groups.push({ kind: "group", run: node.run, group: "metrics" });
  }
  return [...stages, ...groups];
}

function groupValues(node: Extract<RunsNode, { kind: "group" }>): RunsNode[] {
  const entries =
    node.group === "params"
      ? Object.entries(node.run.params)
      : Object.entries(node.run.metrics).map(
          ([key, metric]) => [key, formatMetric(metric)] as const,
        );
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ kind: "value", run: node.run, group: node.group, key, value }));
}

function experimentItem(experiment: Experiment): vscode.TreeItem {
  const item = new vscode.TreeItem(experiment.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `experiment:${experiment.id}`;
  item.description = `${experiment.runCount} run${experiment.runCount === 1 ? "" : "s"}`;
  item.iconPath = new vscode.ThemeIcon("beaker");
  item.contextValue = "lathe.experiment";
  return item;
}

function runItem(node: Extract<RunsNode, { kind: "run" }>): vscode.TreeItem {
  const { run } = node;
  const isParent = node.children.length > 0;
  const hasDetails = Object.keys(run.params).length > 0 || Object.keys(run.metrics).length > 0;
  const state = isParent
    ? node.newest
      ? vscode.TreeItemCollapsibleState.Expanded
      : vscode.TreeItemCollapsibleState.Collapsed
    : hasDetails
      ? vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(run.name, state);
  item.id = `run:${run.id}`;
  const { headlineMetric } = readSettings();
  item.description = isParent
    ? `${startLabel(run.startTime)} · ${runDescription({ ...run, metrics: {} }, headlineMetric)}`
    : runDescription(run, headlineMetric);
  item.iconPath = statusIcon(run.status);
  item.tooltip = runTooltip(run);
  item.contextValue = isParent ? "lathe.reproRun" : "lathe.run";
  return item;
}

function groupItem(node: Extract<RunsNode, { kind: "group" }>): vscode.TreeItem {
  const label = node.group === "params" ? "Params" : "Metrics";
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `${node.group}:${node.run.id}`;
  item.iconPath = new vscode.ThemeIcon(node.group === "params" ? "settings" : "graph");
  return item;
}

function valueItem(node: Extract<RunsNode, { kind: "value" }>): vscode.TreeItem {
  const item = new vscode.TreeItem(
    `${node.key} = ${node.value}`,
    vscode.TreeItemCollapsibleState.None,
  );
  item.id = `${node.group}:${node.run.id}:${node.key}`;
  item.tooltip = `${node.key} = ${node.value}`;
  return item;
}

export function statusIcon(status: RunStatus): vscode.ThemeIcon {
  switch (status) {
    case "FINISHED":
      return new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed"));
    case "FAILED":
      return new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed"));
    case "RUNNING":
      return new vscode.ThemeIcon("sync~spin");
    case "KILLED":
      return new vscode.ThemeIcon("circle-slash");
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
