/**
 * The Compare Runs webview's message contract (issue #3), imported by the extension host
 * (extension/src/runs/compare/) and the webview (webview/src/compare/). Both sides switch over
 * `type` exhaustively. The webview speaks first: it sends `ready`, and the host sends nothing
 * before that. The webview never talks to the daemon; the host fetches and posts.
 */
import type { RunStatus } from "./api";

/** The x axis of the metric charts: the logged step, or the wall time of each point. */
export type XAxis = "step" | "time";

/** An inclusive step range; `null` bounds are open. */
export interface StepRange {
  minStep: number | null;
  maxStep: number | null;
}

/** One run as the webview shows it: a colour slot follows `index`. */
export interface CompareRun {
  id: string;
  name: string;
  experimentName: string;
  status: RunStatus;
  index: number;
}

/** A params/metrics table row: one cell per run, in the order of `runs`. */
export interface CompareRow {
  key: string;
  group: "params" | "metrics";
  /** A param's value; a metric's last value ("NaN", "Infinity", "-Infinity" spelled out). */
  values: (string | null)[];
  /** For params, whether the values differ; for metrics, whether the last values do. */
  differs: boolean;
  /** A metric row's summary per run (null where the run lacks the metric); absent for params. */
  summaries?: (MetricCell | null)[];
}

/**
 * One run's metric over all its points, as the table shows it: the last value, the lowest and
 * the highest as text ("NaN", "Infinity", "-Infinity" spelled out: a -Infinity point makes the
 * min "-Infinity", a metric with only NaN points has min and max "NaN"), the points logged, and
 * how many of them are NaN or ±Infinity (which the charts cannot draw).
 */
export interface MetricCell {
  last: string;
  min: string;
  max: string;
  count: number;
  nan: number;
  posInf: number;
  negInf: number;
}

/**
 * A metric history, columnar: `steps[i]`, `times[i]` and `values[i]` belong to one point. NaN
 * and ±Infinity travel as `null` in `values` with the word in `texts[i]` (JSON has no NaN).
 */
export interface SeriesPoints {
  steps: number[];
  times: number[];
  values: (number | null)[];
  texts: (string | null)[];
}

export interface CompareModel {
  runs: CompareRun[];
  /** Metric keys with at least one point in any run, sorted. */
  metricKeys: string[];
  rows: CompareRow[];
}

/** What the host sends. */
export type HostMessage =
  /** The first answer to `ready`, and again when runs or metric keys change. */
  | { type: "model"; model: CompareModel; defaults: ViewDefaults }
  /**
   * Points of one run's metric. `replace`: the whole curve (range null) or the zoomed range.
   * `append`: points after the last step the webview has (a running run grew).
   */
  | {
      type: "series";
      requestId: number | null;
      runId: string;
      key: string;
      range: StepRange | null;
      mode: "replace" | "append";
      total: number;
      downsampled: boolean;
      points: SeriesPoints;
    }
  /** A fetch the webview asked for failed; `requestId` names it (null: a live update). */
  | { type: "error"; requestId: number | null; message: string };

/** View options the webview starts with (from settings). */
export interface ViewDefaults {
  x: XAxis;
  logScale: boolean;
  /** EMA weight 0 (off) … 0.99. */
  smoothing: number;
  /** Points asked of the server per curve. */
  points: number;
}

/** What the webview sends. */
export type WebviewMessage =
  | { type: "ready" }
  /** Finer points of `key` for every run, over a step range (a zoom) or all of it (null). */
  | { type: "fetch"; requestId: number; key: string; range: StepRange | null; points: number }
  | { type: "openRun"; runId: string };

/** Type guard for what arrives from the webview (it is untrusted input to the host). */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case "ready":
      return true;
    case "fetch":
      return (
        Number.isSafeInteger(m.requestId) &&
        typeof m.key === "string" &&
        m.key !== "" &&
        Number.isInteger(m.points) &&
        (m.range === null || isRange(m.range))
      );
    case "openRun":
      return typeof m.runId === "string" && m.runId !== "";
    default:
      return false;
  }
}

function isRange(value: unknown): value is StepRange {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const r = value as Record<string, unknown>;
  const bound = (b: unknown) => b === null || Number.isSafeInteger(b);
  return bound(r.minStep) && bound(r.maxStep);
}
