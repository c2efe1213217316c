/**
 * The host half of the Compare Runs webview, without `vscode`: answers the webview's messages
 * from the daemon and keeps a running run's curves growing. Only what is new is fetched: per run
 * and metric it remembers the last step sent and asks the history route for the steps after it.
 * Unit-tested against a real daemon (test/extension/compare-session.test.ts).
 */
import type {
  MetricHistory,
  MetricSummary,
  RunComparison,
  RunSummary,
} from "../../../../schemas/api";
import type {
  CompareModel,
  CompareRow,
  HostMessage,
  MetricCell,
  SeriesPoints,
  StepRange,
  ViewDefaults,
  WebviewMessage,
} from "../../../../schemas/webview";
import { assertNever } from "../format";

/** What the session needs of the daemon: DaemonConnection and DaemonHandle both fit. */
export interface DaemonCaller {
  call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T>;
}

export class CompareSession {
  private ready = false;
  /** Last step sent per `runId\0key`, for appends. */
  private readonly sent = new Map<string, number>();
  /**
   * Points of each `runId\0key` sent so far (each history's exact `total`): a comparison counting
   * more than this after an append means points arrived at or below the last step (out of order).
   */
  private readonly counted = new Map<string, number>();
  private metricKeys: string[] = [];
  private runs: RunSummary[] = [];
  /** Live updates are serialised so two bursts never fetch the same steps twice. */
  private updating: Promise<void> = Promise.resolve();

  constructor(
    private readonly daemon: DaemonCaller,
    readonly runIds: string[],
    private readonly post: (message: HostMessage) => void,
    private readonly defaults: ViewDefaults,
    private readonly onOpenRun: (runId: string) => void = () => undefined,
  ) {}

  /** One message from the webview; errors go back to it as `error` messages. */
  async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case "ready":
        this.ready = true;
        this.sent.clear();
        this.counted.clear();
        await this.report(null, () => this.sendAll());
        return;
      case "fetch":
        await this.report(message.requestId, () =>
          this.sendKey(message.key, message.range, message.points, message.requestId),
        );
        return;
      case "openRun":
        this.onOpenRun(message.runId);
        return;
      default:
        return assertNever(message);
    }
  }

  /** Sends everything again (after a reconnect), once the webview has said it is ready. */
  restart(): Promise<void> {
    if (!this.ready) {
      return Promise.resolve();
    }
    this.sent.clear();
    this.counted.clear();
    this.updating = this.updating.then(() => this.report(null, () => this.sendAll()));
    return this.updating;
  }

  /** A run of the panel changed (daemon event): new statuses, new keys, new points. */
  runChanged(runId: string): Promise<void> {
    if (!this.ready || !this.runIds.includes(runId)) {
      return Promise.resolve();
    }
    this.updating = this.updating.then(() => this.report(null, () => this.grow()));
    return this.updating;
  }

  private async sendAll(): Promise<void> {
    await this.sendModel();
    for (const key of this.metricKeys) {
      await this.sendKey(key, null, this.defaults.points, null);
    }
  }

  private async sendModel(): Promise<RunComparison> {
    const comparison = await this.daemon.call<RunComparison>("POST", "/api/v1/runs/compare", {
      runIds: this.runIds,
    });
    this.runs = comparison.runs;
    this.metricKeys = comparison.metrics.filter((m) => m.values.some((v) => v)).map((m) => m.key);
    this.post({ type: "model", model: compareModel(comparison), defaults: this.defaults });
    return comparison;
  }

  private async sendKey(
    key: string,
    range: StepRange | null,
    points: number,
    requestId: number | null,
  ): Promise<void> {
    await Promise.all(
      this.runs
        .filter((run) => key in run.metrics)
        .map(async (run) => {
          const history = await this.history(run.id, key, range, points);
          if (range === null) {
            this.remember(run.id, key, history, "whole");
          }
          this.post(seriesMessage(history, requestId, range, "replace"));
        }),
    );
  }

  /**
   * Sends the model again and, for each run's metric, the points after the last step sent. When
   * the run holds more points than were sent and the new ones are not all after the last step (a
   * point logged late, out of order, or a second value at a step), the whole curve is sent again.
   */
  private async grow(): Promise<void> {
    const known = new Set(this.metricKeys);
    const comparison = await this.sendModel();
    for (const metric of comparison.metrics) {
      for (const [i, summary] of metric.values.entries()) {
        const run = comparison.runs[i]!;
        const id = `${run.id}\0${metric.key}`;
        const last = this.sent.get(id);
        if (!summary || (last !== undefined && summary.count <= (this.counted.get(id) ?? 0))) {
          continue;
        }
        const fresh = last === undefined || !known.has(metric.key) || summary.step <= last;
        if (!fresh) {
          const range = { minStep: last + 1, maxStep: null };
          const history = await this.history(run.id, metric.key, range, this.defaults.points);
          this.remember(run.id, metric.key, history, "append");
          this.post(seriesMessage(history, null, range, "append"));
          if ((this.counted.get(id) ?? 0) >= summary.count) {
            continue;
          }
        }
        const history = await this.history(run.id, metric.key, null, this.defaults.points);
        this.remember(run.id, metric.key, history, "whole");
        this.post(seriesMessage(history, null, null, "replace"));
      }
    }
  }

  // FIXME(#3): on the wall-time axis, ask with x=time, and for a zoom with minTime/maxTime
  // instead of the steps of the points held: the same curve only while timestamps follow steps.
  private history(runId: string, key: string, range: StepRange | null, points: number) {
    const query = new URLSearchParams({ key, points: String(clampPoints(points)) });
    if (range?.minStep !== null && range?.minStep !== undefined) {
      query.set("minStep", String(range.minStep));
    }
    if (range?.maxStep !== null && range?.maxStep !== undefined) {
      query.set("maxStep", String(range.maxStep));
    }
    return this.daemon.call<MetricHistory>(
      "GET",
      `/api/v1/runs/${encodeURIComponent(runId)}/metrics/history?${query.toString()}`,
    );
  }

  private remember(
    runId: string,
    key: string,
    history: MetricHistory,
    how: "whole" | "append",
  ): void {
    const id = `${runId}\0${key}`;
    const before = how === "whole" ? 0 : (this.counted.get(id) ?? 0);
    this.counted.set(id, before + history.total);
    const lastPoint = history.points.at(-1);
    if (lastPoint) {
      const from = how === "whole" ? -Infinity : (this.sent.get(id) ?? -Infinity);
      this.sent.set(id, Math.max(from, lastPoint.step));
    }
  }

  private async report(requestId: number | null, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.post({ type: "error", requestId, message: (err as Error).message });
    }
  }
}

/** The history route accepts 10 to 100,000 points. */
export function clampPoints(points: number): number {
  return Math.min(100_000, Math.max(10, Math.round(points)));
}

export function seriesMessage(
  history: MetricHistory,
  requestId: number | null,
  range: StepRange | null,
  mode: "replace" | "append",
): HostMessage {
  const points: SeriesPoints = { steps: [], times: [], values: [], texts: [] };
  for (const p of history.points) {
    points.steps.push(p.step);
    points.times.push(p.timestamp);
    points.values.push(p.value);
    points.texts.push(p.text ?? null);
  }
  return {
    type: "series",
    requestId,
    runId: history.runId,
    key: history.key,
    range,
    mode,
    total: history.total,
    downsampled: history.downsampled,
    points,
  };
}

/** The daemon's comparison as the webview's model: runs, metric keys and table rows. */
export function compareModel(comparison: RunComparison): CompareModel {
  const rows: CompareRow[] = [
    ...comparison.params.map((p) => ({ ...p, group: "params" as const })),
    ...comparison.metrics.map((m) => ({
      key: m.key,
      group: "metrics" as const,
      values: m.values.map((v) => (v === null ? null : (v.text ?? String(v.last)))),
      differs: m.differs,
      summaries: m.values.map((v) => (v === null ? null : metricCell(v))),
    })),
  ];
  return {
    runs: comparison.runs.map((run, index) => ({
      id: run.id,
      name: run.name,
      experimentName: run.experimentName,
      status: run.status,
      index,
    })),
    metricKeys: comparison.metrics.filter((m) => m.values.some((v) => v)).map((m) => m.key),
    rows,
  };
}

/**
 * A run's metric for the table: the daemon's min and max, an infinite one spelled as the daemon
 * spells it; both say NaN when every point is NaN.
 */
export function metricCell(summary: MetricSummary): MetricCell {
  const { nan, posInf, negInf, count } = summary;
  return {
    last: summary.text ?? String(summary.last),
    min: summary.minText ?? (summary.min === null ? "NaN" : String(summary.min)),
    max: summary.maxText ?? (summary.max === null ? "NaN" : String(summary.max)),
    count,
    nan,
    posInf,
    negInf,
  };
}
