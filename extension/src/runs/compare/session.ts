/**
 * The host half of the Compare Runs webview, without `vscode`: answers the webview's messages
 * from the daemon and keeps a running run's curves growing. Only what is new is fetched: per run
 * and metric it remembers the last step sent and asks the history route for the steps after it.
 * Unit-tested against a real daemon (test/extension/compare-session.test.ts).
 */
import type { MetricHistory, RunComparison, RunSummary } from "../../../../schemas/api";
import type {
  CompareModel,
  CompareRow,
  HostMessage,
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
            this.remember(run.id, key, history);
          }
          this.post(seriesMessage(history, requestId, range, "replace"));
        }),
    );
  }

  /**
   * Sends the model again and, for each run's metric, the points after the last step sent.
   * FIXME(#3): a point logged later with a step at or below the last one sent (out of order) is
   * not fetched by a live update; reopening the view shows it.
   */
  private async grow(): Promise<void> {
    const known = new Set(this.metricKeys);
    const comparison = await this.sendModel();
    for (const metric of comparison.metrics) {
      for (const [i, summary] of metric.values.entries()) {
        const run = comparison.runs[i]!;
        const last = this.sent.get(`${run.id}\0${metric.key}`);
        if (!summary || (last !== undefined && summary.step <= last)) {
          continue;
        }
        const fresh = last === undefined || !known.has(metric.key);
        const range = fresh ? null : { minStep: last + 1, maxStep: null };
        const history = await this.history(run.id, metric.key, range, this.defaults.points);
        this.remember(run.id, metric.key, history);
        this.post(seriesMessage(history, null, range, fresh ? "replace" : "append"));
      }
    }
  }

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

  private remember(runId: string, key: string, history: MetricHistory): void {
    const lastPoint = history.points.at(-1);
    if (lastPoint) {
      const id = `${runId}\0${key}`;
      this.sent.set(id, Math.max(this.sent.get(id) ?? -Infinity, lastPoint.step));
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
