/** How runs and metrics read in the views: pure functions, no vscode import (unit-testable). */
import type { MetricValue, RunSummary } from "../../../schemas/api";

/** A metric value for a description: 0.8123 → "0.812", 12.345 → "12.35", 3 → "3". */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.001) {
    return value.toPrecision(3);
  }
  return String(Number(value.toFixed(abs < 1 ? 3 : 2)));
}

/** A metric value in full, for a `key = value` row. */
export function formatMetric(metric: MetricValue): string {
  if (metric.value === null) {
    return metric.text ?? "NaN";
  }
  return String(Number(metric.value.toPrecision(6)));
}

/** "3s", "0.4s", "2m 05s", "1h 02m". */
export function formatDuration(ms: number): string {
  if (ms < 0) {
    return "0s";
  }
  const seconds = ms / 1000;
  if (seconds < 10) {
    return `${Number(seconds.toFixed(1))}s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)}s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  }
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** The headline metric of a run (the setting's, else the first logged), as [key, value]. */
export function headline(
  metrics: Record<string, MetricValue | number | null>,
  preferred: string,
): [string, string] | undefined {
  const key = preferred in metrics ? preferred : Object.keys(metrics)[0];
  if (key === undefined) {
    return undefined;
  }
  const metric = metrics[key];
  if (metric === null || metric === undefined) {
    return [key, "NaN"];
  }
  if (typeof metric === "number") {
    return [key, formatNumber(metric)];
  }
  return [key, metric.value === null ? (metric.text ?? "NaN") : formatNumber(metric.value)];
}

/** A run's description in the Runs tree: "accuracy 0.812 · 3s", "failed (exit 1) · 2s", "running…". */
export function runDescription(run: RunSummary, preferredMetric: string, now = Date.now()): string {
  const parts: string[] = [];
  switch (run.status) {
    case "RUNNING":
      parts.push("running…");
      break;
    case "FAILED":
      parts.push(run.exitCode === null ? "failed" : `failed (exit ${run.exitCode})`);
      break;
    case "KILLED":
      parts.push("killed");
      break;
    case "SKIPPED":
      parts.push("skipped");
      break;
    case "FINISHED":
      break;
    default:
      return assertNever(run.status);
  }
  const metric = headline(run.metrics, preferredMetric);
  if (metric && run.status !== "SKIPPED") {
    parts.push(`${metric[0]} ${metric[1]}`);
  }
  if (run.status !== "SKIPPED") {
    parts.push(formatDuration((run.endTime ?? now) - run.startTime));
  }
  return parts.join(" · ");
}

/** The first 7 characters of an id, as git shows commits. */
export function shortId(id: string): string {
  return id.slice(0, 7);
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

/** A run as a quick-pick row: its name, description (headline metric, duration) and where it ran. */
export function runPickItem(run: RunSummary, headlineMetric: string) {
  return {
    label: run.name,
    description: runDescription(run, headlineMetric),
    detail: `${run.experimentName} · ${new Date(run.startTime).toLocaleString()} · ${run.id}`,
    run,
  };
}
