/**
 * The Runs view: experiments → runs (newest first, or as sorted) → stage runs of a repro →
 * Params, Metrics, Artifacts, Data, git commit. A filter or sort from the view title goes to
 * POST runs/search. Refreshed from the daemon's events (debounced), never by polling.
 */
import * as vscode from "vscode";
import type { Experiment, RunDetail, RunSummary, SearchRunsResult } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";
import { listArtifacts } from "./artifacts";
import { assertNever, formatMetric, shortId } from "./format";
import {
  artifactItem,
  experimentItem,
  groupItem,
  moreItem,
  runItem,
  valueItem,
  type GroupKind,
  type RunsNode,
} from "./runNodes";
import { readSettings } from "../vscode/settings";
import type { HeadlineMetrics } from "./headlineMetrics";
import { RunsPager } from "./runsPager";
import type { RunsQuery } from "./runsQuery";

export type { RunsNode } from "./runNodes";

const REFRESH_DEBOUNCE_MS = 250;
/** How far back "reveal a run" pages through an experiment before it gives up. */
const MAX_REVEAL_PAGES = 20;

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  /** Runs per experiment from the last listing, for the experiment's "N runs match". */
  private readonly matched = new Map<string, number>();
  /** The experiments last listed, for a run node's parent. */
  private experimentsById = new Map<string, Experiment>();
  readonly onDidChangeTreeData = this.changed.event;

  private readonly pager: RunsPager;

  constructor(
    private readonly daemon: DaemonConnection,
    private readonly query: RunsQuery,
    /** Each experiment's headline metric, for its runs' descriptions. */
    readonly headlines: HeadlineMetrics,
  ) {
    this.pager = new RunsPager(
      (method, path, body) => daemon.call(method, path, body),
      () => readSettings().runsPageSize,
    );
    this.disposables.push(
      daemon.onDidChangeState(() => this.refresh()),
      daemon.onEvent((event) => {
        // A `lathe repro` in a terminal runs in its own process; it reports its runs/changed to
        // the daemon (POST /api/v1/events), which re-emits them here.
        if (event.type === "runs/changed" || event.type === "pipeline/changed") {
          this.refresh();
        }
      }),
      query.onDidChange(() => this.restart()),
    );
  }

  /**
   * Schedules a refresh; bursts of events (a repro emits many) become one. The pages shown are
   * loaded again, as many as before.
   */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.pager.invalidate();
      this.changed.fire();
    }, REFRESH_DEBOUNCE_MS);
  }

  /** A new query or page size: each experiment shows its first page again. */
  restart(): void {
    this.pager.clear();
    this.refresh();
  }

  /** Draws the items again from what is loaded (a headline metric was chosen), fetching nothing. */
  redraw(): void {
    this.changed.fire();
  }

  /** "Load more…": the experiment's next page, added below the runs shown. */
  loadMore(experimentId: string): void {
    this.pager.loadMore(experimentId);
    this.changed.fire();
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (this.daemon.state.kind !== "up") {
      return [];
    }
    try {
      return await this.childrenOf(node);
    } catch (err) {
      log.warn("Could not list runs:", err);
      if (!node && this.query.active) {
        // The query was refused: it is dropped, and the runs show unfiltered at once.
        this.query.reportFailure(err);
        return this.getChildren(node);
      }
      return [];
    }
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case "experiment": {
        const chosen = this.headlines.chosen(node.experiment.name);
        return experimentItem(
          node.experiment,
          { metric: chosen ?? readSettings().headlineMetric, chosen: chosen !== undefined },
          this.query.active ? this.matched.get(node.experiment.id) : undefined,
        );
      }
      case "run":
        return runItem(node, this.headlines.for(node.run.experimentName));
      case "group":
        return groupItem(node);
      case "value":
        return valueItem(node);
      case "artifact":
        return artifactItem(node);
      case "more":
        return moreItem(node, readSettings().runsPageSize);
      default:
        return assertNever(node);
    }
  }

  /**
   * A node's parent, for `TreeView.reveal`: nodes are matched by their items' ids, so the parent
   * is built again from what the view has loaded (the experiments and the pages of runs).
   */
  getParent(node: RunsNode): RunsNode | undefined {
    switch (node.kind) {
      case "experiment":
        return undefined;
      case "more":
        return { kind: "experiment", experiment: node.experiment };
      case "run": {
        const top = this.pager.topOf(node.run.experimentId, node.run.id);
        if (top && top.run.id !== node.run.id) {
          return { kind: "run", run: top.run, children: top.children, newest: false };
        }
        const experiment = this.experimentsById.get(node.run.experimentId);
        return experiment && { kind: "experiment", experiment };
      }
      case "group":
        return this.runNode(node.run);
      case "value":
        return node.group === "git"
          ? this.runNode(node.run)
          : { kind: "group", run: node.run, group: node.group };
      case "artifact": {
        const slash = node.path.lastIndexOf("/");
        return slash > 0 && node.oid === null
          ? {
              kind: "artifact",
              run: node.run,
              path: node.path.slice(0, slash),
              isDir: true,
              oid: null,
            }
          : { kind: "group", run: node.run, group: "artifacts" };
      }
      default:
        return assertNever(node);
    }
  }

  /**
   * Finds run `runId` in the view, loading pages of its experiment as needed (at most
   * `MAX_REVEAL_PAGES`); undefined when the view does not show it (deleted, filtered out, or
   * further back than that), with the reason.
   */
  async locate(runId: string): Promise<RunsNode | { missing: string }> {
    const run = await this.detail(runId);
    if (run.lifecycleStage === "deleted") {
      return { missing: `Run ${shortId(run.id)} was deleted.` };
    }
    let topId = run.id;
    for (let parentId = run.parentId, depth = 0; parentId && depth < 8; depth++) {
      const parent = await this.detail(parentId);
      if (parent.experimentId !== run.experimentId) {
        break;
      }
      topId = parent.id;
      parentId = parent.parentId;
    }
    await this.experiments();
    const search = this.query.active ? this.query.search() : undefined;
    const top = await this.pager.loadUntil(run.experimentId, topId, search, MAX_REVEAL_PAGES);
    this.changed.fire();
    if (!top || (top.run.id !== run.id && !top.children.some((c) => c.id === run.id))) {
      return {
        missing: this.query.active
          ? `Run ${shortId(run.id)} does not match the Runs view's filter.`
          : `Run ${shortId(run.id)} is not among the newest runs the Runs view lists.`,
      };
    }
    const self = top.run.id === run.id ? top.run : top.children.find((c) => c.id === run.id);
    return self === top.run
      ? { kind: "run", run: top.run, children: top.children, newest: false }
      : { kind: "run", run: self ?? run, children: [], newest: false };
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }

  private async childrenOf(node: RunsNode | undefined): Promise<RunsNode[]> {
    if (!node) {
      return this.experiments();
    }
    switch (node.kind) {
      case "experiment":
        return this.runsOf(node.experiment);
      case "run":
        return this.runChildren(node);
      case "group":
        return this.groupValues(node);
      case "artifact":
        return node.isDir ? listArtifacts(this.daemon, node.run, node.path) : [];
      case "value":
      case "more":
        return [];
      default:
        return assertNever(node);
    }
  }

  private runNode(run: RunSummary): RunsNode {
    const top = this.pager.topOf(run.experimentId, run.id);
    const children = top?.run.id === run.id ? top.children : [];
    return { kind: "run", run, children, newest: false };
  }

  private async experiments(): Promise<RunsNode[]> {
    const experiments = (await this.daemon.call<Experiment[]>("GET", "/api/v1/experiments"))
      .filter((e) => e.runCount > 0)
      .sort((a, b) => b.createdAt - a.createdAt);
    this.experimentsById = new Map(experiments.map((e) => [e.id, e]));
    this.matched.clear();
    if (this.query.active) {
      // Only experiments with a matching run; the search also checks the filter once.
      const runs = await this.search(experiments.map((e) => e.id));
      for (const run of runs) {
        this.matched.set(run.experimentId, (this.matched.get(run.experimentId) ?? 0) + 1);
      }
      this.query.reportSuccess(runs.length);
      return experiments
        .filter((e) => this.matched.has(e.id))
        .map((experiment) => ({ kind: "experiment", experiment }));
    }
    return experiments.map((experiment) => ({ kind: "experiment", experiment }));
  }

  private search(experimentIds: string[]): Promise<RunSummary[]> {
    return this.daemon
      .call<SearchRunsResult>("POST", "/api/v1/runs/search", {
        experimentIds,
        ...this.query.request(),
      })
      .then((r) => r.runs);
  }

  /** A page at a time (`lathe.runs.pageSize`), with "Load more…" last while there are more. */
  private async runsOf(experiment: Experiment): Promise<RunsNode[]> {
    const search = this.query.active ? this.query.search() : undefined;
    const { top, more } = await this.pager.runsOf(experiment.id, search);
    const nodes: RunsNode[] = top.map(({ run, children }, i) => ({
      kind: "run",
      run,
      children,
      newest: i === 0,
    }));
    if (more) {
      nodes.push({ kind: "more", experiment, shown: top.length });
    }
    return nodes;
  }

  private async runChildren(node: Extract<RunsNode, { kind: "run" }>): Promise<RunsNode[]> {
    const { run } = node;
    const stages: RunsNode[] = node.children.map((child) => ({
      kind: "run",
      run: child,
      children: [],
      newest: false,
    }));
    const groups: RunsNode[] = [];
    const group = (g: GroupKind) => groups.push({ kind: "group", run, group: g });
    if (Object.keys(run.params).length > 0) {
      group("params");
    }
    if (Object.keys(run.metrics).length > 0) {
      group("metrics");
    }
    if (node.children.length === 0) {
      const detail = await this.detail(run.id);
      if (detail.outputs.length > 0 || (await listArtifacts(this.daemon, run, "")).length > 0) {
        group("artifacts");
      }
      if (detail.inputs.length > 0) {
        group("data");
      }
    }
    if (run.gitCommit) {
      const dirty = run.gitDirty ? " (dirty)" : "";
      groups.push({
        kind: "value",
        run,
        group: "git",
        key: `${run.gitCommit}${dirty}`,
        value: `${shortId(run.gitCommit)}${dirty}`,
      });
    }
    return [...stages, ...groups];
  }

  private async groupValues(node: Extract<RunsNode, { kind: "group" }>): Promise<RunsNode[]> {
    const value = (key: string, text: string): RunsNode => ({
      kind: "value",
      run: node.run,
      group: node.group,
      key,
      value: text,
    });
    const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => a.localeCompare(b);
    switch (node.group) {
      case "params":
        return Object.entries(node.run.params)
          .sort(byKey)
          .map(([k, v]) => value(k, v));
      case "metrics":
        return Object.entries(node.run.metrics)
          .sort(byKey)
          .map(([k, m]) => value(k, formatMetric(m)));
      case "data":
        return (await this.detail(node.run.id)).inputs.map((d) => value(d.path, shortId(d.oid)));
      case "artifacts": {
        const detail = await this.detail(node.run.id);
        const outputs: RunsNode[] = detail.outputs.map((o) => ({
          kind: "artifact",
          run: node.run,
          path: o.path,
          isDir: false,
          oid: o.oid,
        }));
        return [...outputs, ...(await listArtifacts(this.daemon, node.run, ""))];
      }
      default:
        return assertNever(node.group);
    }
  }

  private detail(runId: string): Promise<RunDetail> {
    return this.daemon.call<RunDetail>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`);
  }
}
