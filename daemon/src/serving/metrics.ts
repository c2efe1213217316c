/**
 * A serving worker's metrics: Prometheus series for `/metrics` (prom-client), and a short sliding
 * window of recent requests for the daemon's Deployments view (requests/s, p95, errors).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DeploymentStats, VersionStats } from "../../../schemas/api";

/** Seconds of traffic the window keeps for rates and percentiles. */
const WINDOW_SECONDS = 10;
const MAX_SAMPLES = 20_000;

interface Sample {
  at: number;
  ms: number;
  isError: boolean;
  version: number | null;
}

export interface VersionView {
  version: number;
  percent: number;
  queueDepth(): number;
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter;
  private readonly latency: Histogram;
  private readonly batchRows: Histogram;
  private readonly modelVersion: Gauge;
  private samples: Sample[] = [];
  private totals = { requests: 0, errors: 0 };
  private versions: VersionView[] = [];

  constructor(private readonly model: string) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "lathe_serving_requests_total",
      help: "Requests answered, by endpoint, HTTP status and model version.",
      labelNames: ["endpoint", "status", "version"],
      registers,
    });
    this.latency = new Histogram({
      name: "lathe_serving_request_duration_seconds",
      help: "Time from request to response, by endpoint and model version.",
      labelNames: ["endpoint", "version"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.batchRows = new Histogram({
      name: "lathe_serving_batch_rows",
      help: "Rows per session.run after adaptive batching, by model version.",
      labelNames: ["version"],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    });
    const versions = () => this.versions;
    new Gauge({
      name: "lathe_serving_queue_depth",
      help: "Requests waiting for a batch, by model version.",
      labelNames: ["version"],
      registers,
      // prom-client calls this on scrape: read the queues then rather than on every change.
      collect(this: Gauge) {
        this.reset();
        versions().forEach((v) => this.set({ version: String(v.version) }, v.queueDepth()));
      },
    });
    this.modelVersion = new Gauge({
      name: "lathe_serving_model_version",
      help: "The model versions served and their share of the traffic in percent.",
      labelNames: ["model", "version"],
      registers,
    });
  }

  /** The versions now served, after a deploy or a split change. */
  setVersions(versions: VersionView[]): void {
    this.versions = versions;
    this.modelVersion.reset();
    versions.forEach((v) =>
      this.modelVersion.set({ model: this.model, version: String(v.version) }, v.percent),
    );
  }

  observeBatch(version: number, rows: number): void {
    this.batchRows.observe({ version: String(version) }, rows);
  }

  /** Records one answered request; `version` is null when it failed before a version was chosen. */
  observeRequest(endpoint: string, status: number, ms: number, version: number | null): void {
    const labelVersion = version === null ? "" : String(version);
    this.requests.inc({ endpoint, status: String(status), version: labelVersion });
    this.latency.observe({ endpoint, version: labelVersion }, ms / 1000);

    const isError = status >= 500 || status === 429;
    this.totals.requests++;
    this.totals.errors += isError ? 1 : 0;
    this.samples.push({ at: Date.now(), ms, isError, version });
    if (this.samples.length > MAX_SAMPLES) {
      this.samples = this.samples.slice(-MAX_SAMPLES / 2);
    }
  }

  /** The window's rates and percentiles, overall and per version. */
  stats(name: string): DeploymentStats {
    const since = Date.now() - WINDOW_SECONDS * 1000;
    this.samples = this.samples.filter((s) => s.at >= since);
    const versions: VersionStats[] = this.versions.map((v) => {
      const mine = this.samples.filter((s) => s.version === v.version);
      return {
        version: v.version,
        percent: v.percent,
        requests: mine.length,
        errors: mine.filter((s) => s.isError).length,
        requestsPerSecond: mine.length / WINDOW_SECONDS,
        p95Ms: percentile(mine, 0.95),
        queueDepth: v.queueDepth(),
      };
    });
    return {
      name,
      windowSeconds: WINDOW_SECONDS,
      requests: this.totals.requests,
      errors: this.totals.errors,
      requestsPerSecond: this.samples.length / WINDOW_SECONDS,
      p95Ms: percentile(this.samples, 0.95),
      versions,
    };
  }
}

function percentile(samples: Sample[], q: number): number | null {
  if (samples.length === 0) {
    return null;
  }
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]! * 100) / 100;
}
