/**
 * The headline metric of each experiment: the metric the Runs view shows beside its runs. An
 * experiment can have its own ("Choose Headline Metric…", kept in the workspace's state);
 * otherwise the setting `lathe.runs.headlineMetric` applies. Pure (no `vscode`): the state is a
 * Memento-like store, tested with a Map in test/extension/headline-metrics.test.ts.
 */
import type { RunSummary } from "../../../schemas/api";

/** What the choices need of workspaceState (a vscode Memento fits). */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** What the metric keys need of the daemon (DaemonConnection fits). */
export interface DaemonCaller {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The workspaceState key: experiment name → metric key. */
export const HEADLINE_STATE_KEY = "lathe.runs.headlineMetricByExperiment";

/** The most runs read to list an experiment's metric keys (the runs route's limit). */
export const MAX_RUNS_READ = 10_000;

/**
 * The choices are keyed by experiment name, not id: names are unique and are what the user
 * sees, and they survive a fresh `.lathe/` where ids are handed out again.
 */
export class HeadlineMetrics {
  constructor(
    private readonly state: StateStore,
    private readonly fallback: () => string,
  ) {}

  /** The metric shown beside the runs of `experiment`: its own choice, else the setting's. */
  for(experiment: string): string {
    return this.chosen(experiment) ?? this.fallback();
  }

  /** The experiment's own choice, if it has one. */
  chosen(experiment: string): string | undefined {
    const metric = this.all()[experiment];
    return typeof metric === "string" && metric !== "" ? metric : undefined;
  }

  /** Sets the experiment's metric; undefined goes back to the setting's. */
  async choose(experiment: string, metric: string | undefined): Promise<void> {
    const all = { ...this.all() };
    if (metric === undefined) {
      delete all[experiment];
    } else {
      all[experiment] = metric;
    }
    await this.state.update(HEADLINE_STATE_KEY, all);
  }

  private all(): Record<string, unknown> {
    const stored = this.state.get<unknown>(HEADLINE_STATE_KEY);
    return stored !== null && typeof stored === "object" ? (stored as Record<string, unknown>) : {};
  }
}

/** A metric key an experiment's runs logged, and how many of them did. */
export interface MetricKeyCount {
  key: string;
  runs: number;
}

/** The metric keys of `runs`, the most common first, then by name. */
export function metricKeysOf(runs: RunSummary[]): MetricKeyCount[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const key of Object.keys(run.metrics)) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([key, n]) => ({ key, runs: n }))
    .sort((a, b) => b.runs - a.runs || a.key.localeCompare(b.key));
}

/**
 * The metric keys of an experiment's runs (its newest MAX_RUNS_READ), stage runs included.
 *
 * FIXME(#3): the daemon should list an experiment's metric keys itself (one grouped query over
 * its latest metrics); reading whole run summaries costs megabytes for a large experiment and
 * misses a key only runs older than the newest 10,000 logged.
 */
export async function experimentMetricKeys(
  daemon: DaemonCaller,
  experimentId: string,
): Promise<{ keys: MetricKeyCount[]; runs: number }> {
  const query = new URLSearchParams({ experiment: experimentId, limit: String(MAX_RUNS_READ) });
  const runs = await daemon.call<RunSummary[]>("GET", `/api/v1/runs?${query.toString()}`);
  return { keys: metricKeysOf(runs), runs: runs.length };
}

/** A row of the "Choose Headline Metric" pick: a metric, or (metric undefined) the setting's. */
export interface HeadlineChoice {
  label: string;
  description: string;
  metric: string | undefined;
  current: boolean;
}

/**
 * The pick's rows: every metric key with how many runs logged it, the current one marked (listed
 * even when no run logged it), then "use the setting" while the experiment has its own choice.
 */
export function headlineChoices(
  keys: MetricKeyCount[],
  runs: number,
  chosen: string | undefined,
  fallback: string,
): HeadlineChoice[] {
  const current = chosen ?? fallback;
  const listed = keys.some((k) => k.key === current) ? keys : [...keys, { key: current, runs: 0 }];
  const rows: HeadlineChoice[] = listed.map(({ key, runs: n }) => {
    const isCurrent = key === current;
    const where = n === 0 ? "no run logged it" : `in ${n} of ${runs} run${runs === 1 ? "" : "s"}`;
    const why = isCurrent ? (chosen ? " · current" : " · current (the setting's)") : "";
    return {
      label: `${isCurrent ? "$(check)" : "$(blank)"} ${key}`,
      description: `${where}${why}`,
      metric: key,
      current: isCurrent,
    };
  });
  if (chosen !== undefined) {
    rows.push({
      label: "$(discard) Use the setting's metric",
      description: `lathe.runs.headlineMetric: ${fallback}`,
      metric: undefined,
      current: false,
    });
  }
  return rows;
}
