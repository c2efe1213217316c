/**
 * The Pipelines view: the stages of lathe.yaml in DAG order with their state (running, failed,
 * stale with its reason, up to date, frozen), from the daemon's `pipeline/dag`, `pipeline/status`
 * and runs. Refreshed from `pipeline/changed`, `runs/changed` and `repro/progress` events.
 */
import * as vscode from "vscode";
import type { PipelineDag, PipelineStatus, RunSummary } from "../../../schemas/api";
import { LatheError } from "../../../daemon/src/errors";
import type { DaemonConnection } from "../daemon/connection";
import { messageOf } from "../vscode/errors";
import { log } from "../vscode/log";
import { stageViews, type StageState, type StageView } from "./stageState";

export type PipelinesNode =
  | { kind: "stage"; stage: StageView; file: string }
  | { kind: "problem"; message: string; file: string | null; line: number; col: number };

const REFRESH_DEBOUNCE_MS = 200;
/** Enough runs to find every stage's newest one in a large pipeline. */
const RUNS_LIMIT = 500;

const ICONS: Record<StageState, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon("sync~spin", new vscode.ThemeColor("charts.blue")),
  failed: new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed")),
  stale: new vscode.ThemeIcon("circle-filled", new vscode.ThemeColor("charts.yellow")),
  "up-to-date": new vscode.ThemeIcon("pass-filled", new vscode.ThemeColor("testing.iconPassed")),
  frozen: new vscode.ThemeIcon("lock", new vscode.ThemeColor("disabledForeground")),
};

export class PipelinesTreeProvider
  implements vscode.TreeDataProvider<PipelinesNode>, vscode.Disposable
{
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stages: StageView[] = [];
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly daemon: DaemonConnection) {
    this.disposables.push(
      daemon.onDidChangeState(() => this.refresh()),
      daemon.onEvent((event) => {
        switch (event.type) {
          case "repro/progress":
            if (event.status === "running") {
              this.running.add(event.stage);
            } else {
              this.running.delete(event.stage);
            }
            this.refresh();
            return;
          case "pipeline/changed":
          case "runs/changed":
            this.refresh();
            return;
          default:
            return;
        }
      }),
    );
  }

  /** The stages as last shown, for commands that take a stage name. */
  get shown(): readonly StageView[] {
    return this.stages;
  }

  /** Schedules a refresh; a burst of events becomes one. */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), REFRESH_DEBOUNCE_MS);
  }

  /** Forgets `running` marks (after a repro ended, whatever its events said). */
  clearRunning(): void {
    this.running.clear();
    this.refresh();
  }

  async getChildren(node?: PipelinesNode): Promise<PipelinesNode[]> {
    if (node || this.daemon.state.kind !== "up") {
      return [];
    }
    try {
      const [dag, status, runs] = await Promise.all([
        this.daemon.call<PipelineDag>("GET", "/api/v1/pipeline/dag"),
        this.daemon.call<PipelineStatus>("GET", "/api/v1/pipeline/status"),
        this.daemon.call<RunSummary[]>("GET", `/api/v1/runs?limit=${RUNS_LIMIT}`),
      ]);
      this.stages = stageViews({ dag, status, runs, running: this.running });
      return this.stages.map((stage) => ({ kind: "stage", stage, file: dag.file }));
    } catch (err) {
      log.warn("Could not read the pipeline:", err);
      this.stages = [];
      return [problemNode(err)];
    }
  }

  getTreeItem(node: PipelinesNode): vscode.TreeItem {
    return node.kind === "stage" ? stageItem(node) : problemItem(node);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }
}

function stageItem(node: Extract<PipelinesNode, { kind: "stage" }>): vscode.TreeItem {
  const { stage } = node;
  const item = new vscode.TreeItem(stage.name, vscode.TreeItemCollapsibleState.None);
  item.id = `stage:${stage.name}`;
  item.description = stage.description;
  item.tooltip = new vscode.MarkdownString(stage.tooltip);
  item.iconPath = ICONS[stage.state];
  // `lathe.stage.failed.hasRun`: the menus offer Show Log only when there is a run.
  item.contextValue = `lathe.stage.${stage.state}${stage.lastRunId ? ".hasRun" : ""}`;
  item.accessibilityInformation = { label: `${stage.name}, ${stage.state}: ${stage.description}` };
  item.command = {
    command: "lathe.pipelines.openStage",
    title: "Open lathe.yaml at the Stage",
    arguments: [node],
  };
  return item;
}

function problemItem(node: Extract<PipelinesNode, { kind: "problem" }>): vscode.TreeItem {
  const item = new vscode.TreeItem(node.message, vscode.TreeItemCollapsibleState.None);
  item.iconPath = new vscode.ThemeIcon(
    "warning",
    new vscode.ThemeColor("problemsWarningIcon.foreground"),
  );
  item.tooltip = node.message;
  item.contextValue = "lathe.pipelineProblem";
  if (node.file) {
    item.command = {
      command: "lathe.pipelines.openStage",
      title: "Open the Pipeline File",
      arguments: [node],
    };
  }
  return item;
}

/** A pipeline that does not load: its message, and where, when the error names a place. */
function problemNode(err: unknown): PipelinesNode {
  const data = err instanceof LatheError ? err.data : {};
  const file = typeof data.file === "string" ? data.file : null;
  const line = typeof data.line === "number" ? data.line : 1;
  const col = typeof data.col === "number" ? data.col : 1;
  return { kind: "problem", message: messageOf(err), file, line, col };
}
