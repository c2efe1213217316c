/**
 * The Deployments view (`lathe.deployments`, #5): each deployment with its state, version(s),
 * requests/s, p95 latency and errors from its worker's last seconds (GET .../stats). Refreshed
 * on `deployments/changed` events, and every `lathe.deployments.refreshSeconds` only while the
 * view is visible, so a hidden view costs nothing.
 */
import * as vscode from "vscode";
import type { Deployment, DeploymentStats, VersionStats } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import type { Deployments } from "./deployments";

export type DeploymentNode =
  | { kind: "deployment"; deployment: Deployment }
  | { kind: "version"; deployment: Deployment; share: VersionStats };

export class DeploymentsView implements vscode.TreeDataProvider<DeploymentNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DeploymentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly stats = new Map<string, DeploymentStats>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  private isVisible = false;

  constructor(
    private readonly daemon: DaemonConnection,
    private readonly deployments: Deployments,
  ) {
    this.disposables.push(deployments.onDidChange(() => void this.refreshStats()));
  }

  /** Polls only while `view` is visible; the interval follows the setting. */
  attach(view: vscode.TreeView<DeploymentNode>): void {
    const follow = () => {
      this.isVisible = view.visible;
      this.schedule();
      if (view.visible) {
        void this.refreshStats();
      }
    };
    this.disposables.push(
      view.onDidChangeVisibility(follow),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("lathe.deployments.refreshSeconds")) {
          this.schedule();
        }
      }),
    );
    follow();
  }

  getTreeItem(node: DeploymentNode): vscode.TreeItem {
    return node.kind === "deployment" ? this.deploymentItem(node.deployment) : versionItem(node);
  }

  getChildren(node?: DeploymentNode): DeploymentNode[] {
    if (!node) {
      return this.deployments.all.map((deployment) => ({ kind: "deployment", deployment }));
    }
    if (node.kind === "version") {
      return [];
    }
    const shares = this.stats.get(node.deployment.name)?.versions ?? [];
    return shares.map((share) => ({ kind: "version", deployment: node.deployment, share }));
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }

  private schedule(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!this.isVisible) {
      return;
    }
    const seconds =
      vscode.workspace.getConfiguration("lathe").get<number>("deployments.refreshSeconds") ?? 5;
    this.timer = setInterval(() => void this.refreshStats(), Math.max(1, seconds) * 1000);
  }

  private async refreshStats(): Promise<void> {
    if (this.daemon.state.kind !== "up") {
      this.changed.fire(undefined);
      return;
    }
    const serving = this.deployments.all.filter((d) => d.state === "ready");
    const answers = await Promise.allSettled(
      serving.map((d) =>
        this.daemon.call<DeploymentStats>(
          "GET",
          `/api/v1/deployments/${encodeURIComponent(d.name)}/stats`,
          undefined,
          5000,
        ),
      ),
    );
    this.stats.clear();
    answers.forEach((a) => a.status === "fulfilled" && this.stats.set(a.value.name, a.value));
    this.changed.fire(undefined);
  }

  private deploymentItem(d: Deployment): vscode.TreeItem {
    const hasSplit = d.traffic.length > 1;
    const item = new vscode.TreeItem(
      d.name,
      hasSplit ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    const s = this.stats.get(d.name);
    const versions = d.traffic
      .map((t) => `v${t.version}${hasSplit ? ` ${t.percent}%` : ""}`)
      .join(" + ");
    const figures =
      s && d.state === "ready" ? ` · ${figuresOf(s.requestsPerSecond, s.p95Ms, errorsIn(s))}` : "";
    item.id = `deployment:${d.name}`;
    item.description = `${versions} · ${d.state}${figures}`;
    item.contextValue = `lathe.deployment.${d.state}`;
    // A ready deployment with an error serves, but not what its alias names now (#5).
    const isBehind = d.state === "ready" && d.error !== null;
    item.iconPath = isBehind
      ? new vscode.ThemeIcon("warning", new vscode.ThemeColor("list.warningForeground"))
      : iconOf(d.state);
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${d.name}** (${d.target}) is ${d.state}\n\n`);
    if (d.url) {
      tooltip.appendMarkdown(`URL: \`${d.url}\`\n\n`);
    }
    tooltip.appendMarkdown(
      `Batching: up to ${d.options.maxBatchRows} rows, ${d.options.maxDelayMs} ms; queue ${d.options.maxQueue}\n\n`,
    );
    if (d.restarts > 0) {
      tooltip.appendMarkdown(`Restarted ${d.restarts} time(s) after a crash\n\n`);
    }
    if (d.error) {
      tooltip.appendText(d.error);
    }
    item.tooltip = tooltip;
    return item;
  }
}

function versionItem(node: Extract<DeploymentNode, { kind: "version" }>): vscode.TreeItem {
  const { share } = node;
  const item = new vscode.TreeItem(`v${share.version}`, vscode.TreeItemCollapsibleState.None);
  item.id = `deployment:${node.deployment.name}:v${share.version}`;
  item.description = `${share.percent}% · ${figuresOf(share.requestsPerSecond, share.p95Ms, share.errors)}`;
  item.contextValue = "lathe.deploymentVersion";
  item.iconPath = new vscode.ThemeIcon("versions");
  return item;
}

function figuresOf(rps: number, p95: number | null, errors: number): string {
  const latency = p95 === null ? "p95 –" : `p95 ${p95.toFixed(1)} ms`;
  return `${rps.toFixed(1)} req/s · ${latency} · ${errors} errors`;
}

/** Errors in the stats window, summed over versions (the totals count since the start). */
function errorsIn(s: DeploymentStats): number {
  return s.versions.reduce((n, v) => n + v.errors, 0);
}

function iconOf(state: Deployment["state"]): vscode.ThemeIcon {
  switch (state) {
    case "ready":
      return new vscode.ThemeIcon("rocket", new vscode.ThemeColor("testing.iconPassed"));
    case "starting":
    case "restarting":
      return new vscode.ThemeIcon("sync~spin");
    case "failed":
      return new vscode.ThemeIcon("error", new vscode.ThemeColor("errorForeground"));
    case "stopped":
      return new vscode.ThemeIcon("circle-slash", new vscode.ThemeColor("disabledForeground"));
  }
}
