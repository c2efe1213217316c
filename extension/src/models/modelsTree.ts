/** The Models view: registered models → versions, with Deploy / Undeploy actions on versions. */
import * as vscode from "vscode";
import type { Deployment, ModelVersion, RegisteredModel, RunSummary } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { assertNever, headline, shortId } from "../runs/format";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import { versionDeployNote } from "./deployChoices";
import type { Deployments } from "./deployments";
import { appendRegistryTooltip, versionBadges, versionIcon } from "./versionBadges";

export type ModelsNode =
  | { kind: "model"; model: RegisteredModel }
  | {
      kind: "version";
      version: ModelVersion;
      run: RunSummary | undefined;
      deployment: Deployment | undefined;
    };

const REFRESH_DEBOUNCE_MS = 250;

export class ModelsTreeProvider implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** A run's stage never changes, so the lookups are kept for the session. */
  private readonly runs = new Map<string, RunSummary>();
  private timer: NodeJS.Timeout | undefined;
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly daemon: DaemonConnection,
    private readonly deployments: Deployments,
  ) {
    this.disposables.push(
      daemon.onDidChangeState(() => this.refresh()),
      daemon.onEvent((event) => {
        // A `lathe repro` from a terminal registers versions in process; its lathe.lock write
        // is what the daemon sees (#5).
        if (event.type === "models/changed" || event.type === "pipeline/changed") {
          this.refresh();
        }
      }),
      deployments.onDidChange(() => this.refresh()),
    );
  }

  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), REFRESH_DEBOUNCE_MS);
  }

  async getChildren(node?: ModelsNode): Promise<ModelsNode[]> {
    if (this.daemon.state.kind !== "up") {
      return [];
    }
    try {
      if (!node) {
        const models = await this.daemon.call<RegisteredModel[]>("GET", "/api/v1/models");
        return models
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((model) => ({ kind: "model", model }));
      }
      if (node.kind === "model") {
        const versions = [...node.model.versions].sort((a, b) => b.version - a.version);
        return Promise.all(
          versions.map(async (version) => ({
            kind: "version" as const,
            version,
            run: await this.runOf(version.runId),
            deployment: this.deployments.find(version.model, version.version),
          })),
        );
      }
      return [];
    } catch (err) {
      log.warn("Could not list models:", err);
      return [];
    }
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    switch (node.kind) {
      case "model":
        return this.modelItem(node.model);
      case "version":
        return versionItem(node);
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

  private modelItem(model: RegisteredModel): vscode.TreeItem {
    const item = new vscode.TreeItem(model.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `model:${model.name}`;
    const deployed = this.deployments.all.find(
      (d) => d.model === model.name && d.state === "ready",
    );
    const count = `${model.versions.length} version${model.versions.length === 1 ? "" : "s"}`;
    const aliases = Object.entries(model.aliases).map(([a, v]) => `@${a} v${v}`);
    const described = [count, ...aliases].join(" · ");
    item.description = deployed ? `${described} · v${deployed.version} deployed` : described;
    item.iconPath = new vscode.ThemeIcon("package");
    item.contextValue = "lathe.model";
    return item;
  }

  private async runOf(runId: string): Promise<RunSummary | undefined> {
    const cached = this.runs.get(runId);
    if (cached) {
      return cached;
    }
    try {
      const run = await this.daemon.call<RunSummary>(
        "GET",
        `/api/v1/runs/${encodeURIComponent(runId)}`,
      );
      this.runs.set(runId, run);
      return run;
    } catch (err) {
      log.debug(`Could not read run ${runId} of a model version:`, err);
      return undefined;
    }
  }
}

function versionItem(node: Extract<ModelsNode, { kind: "version" }>): vscode.TreeItem {
  const { version, deployment, run } = node;
  const item = new vscode.TreeItem(`v${version.version}`, vscode.TreeItemCollapsibleState.None);
  item.id = `model:${version.model}:v${version.version}`;
  const parts: string[] = versionBadges(version);
  if (deployment) {
    parts.push(deployment.state === "ready" && deployment.url ? deployment.url : "starting…");
  }
  const metric = headline(version.metrics, readSettings().headlineMetric);
  if (metric) {
    parts.push(`${metric[0]} ${metric[1]}`);
  }
  parts.push(`from ${run?.stage ?? run?.name ?? "run"} run ${shortId(version.runId)}`);
  item.description = parts.join(" · ");
  item.iconPath = deployment ? new vscode.ThemeIcon("rocket") : versionIcon(version);
  item.contextValue = deployment ? "lathe.modelVersion.deployed" : "lathe.modelVersion";
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${version.model} v${version.version}**\n\n`);
  md.appendMarkdown(`From run \`${version.runId}\`, file \`${version.path}\`\n\n`);
  md.appendMarkdown(
    `Object \`${shortId(version.oid)}\`, registered ${new Date(version.createdAt).toLocaleString()}\n\n`,
  );
  const inputs = version.signature.inputs.map(
    (t) => `${t.name} ${t.datatype}[${t.shape.join(", ")}]`,
  );
  if (inputs.length > 0) {
    md.appendMarkdown(`Inputs: ${inputs.join("; ")}\n\n`);
  }
  if (version.signature.labels?.length) {
    md.appendMarkdown(`Labels: ${version.signature.labels.join(", ")}\n\n`);
  }
  appendRegistryTooltip(md, version);
  const note = versionDeployNote(version);
  if (note) {
    md.appendText(`${note}\n\n`);
  }
  if (deployment?.url) {
    md.appendMarkdown(`Deployed at ${deployment.url}`);
  }
  item.tooltip = md;
  return item;
}
