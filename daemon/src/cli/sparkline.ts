/**
 * A metric's curve as one line of text for `lathe runs show`: Unicode block characters drawn from
 * the server-side downsampled history (tracking/history.ts), then the first, lowest, highest and
 * last values and how many points there are. Plain characters only, no colour, so it reads the
 * same in a pipe, a log file or under NO_COLOR.
 */
import type { MetricHistory, MetricHistoryPoint } from "../../../schemas/api";

/** Columns of a curve; the history is asked for 5 points (one bucket) per column. */
export const SPARK_WIDTH = 40;
const LEVELS = "▁▂▃▄▅▆▇█";
/** A column whose points are all NaN or ±Infinity: the curve left the plot there. */
const OFF_SCALE = "·";

/** The curve: one column per point up to `width`, else `width` columns of equal step range. */
export function sparkline(points: MetricHistoryPoint[], width = SPARK_WIDTH): string {
  if (points.length === 0) {
    return "";
  }
  const columns: (number | undefined)[][] = [];
  const lo = points[0]!.step;
  const hi = points[points.length - 1]!.step;
  points.forEach((p, i) => {
    const col =
      points.length <= width || hi === lo ? i : Math.floor(((p.step - lo) / (hi - lo + 1)) * width);
    (columns[col] ??= []).push(finite(p));
  });
  // A column is its points' mean: a downsampled bucket's first, min, max and last together.
  const means = Array.from(columns, (col) => {
    const values = (col ?? []).filter((v): v is number => v !== undefined);
    return col === undefined
      ? null
      : values.length === 0
        ? undefined
        : values.reduce((a, b) => a + b, 0) / values.length;
  });
  const drawn = means.filter((m): m is number => typeof m === "number");
  const min = Math.min(...drawn);
  const span = Math.max(...drawn) - min;
  return means
    .map((m) => {
      if (m === null) {
        return " "; // No point falls in this step range.
      }
      if (m === undefined) {
        return OFF_SCALE;
      }
      // A flat curve sits mid-height, so it does not read as a floor or a ceiling.
      const level = span === 0 ? 3 : Math.round(((m - min) / span) * (LEVELS.length - 1));
      return LEVELS[level];
    })
    .join("");
}

/** `▇▅▃▂▁  first 1, min 0.2, max 1, last 0.2 (5 points)`. */
export function curveLine(history: MetricHistory): string {
  const points = history.points;
  if (points.length === 0) {
    return "(no points)";
  }
  // Every downsampling bucket keeps its lowest and highest point: these are exact.
  const numbers = points.map(numeric).filter((v): v is number => v !== undefined);
  const stats = [
    `first ${shown(points[0]!)}`,
    numbers.length ? `min ${format(Math.min(...numbers))}` : "",
    numbers.length ? `max ${format(Math.max(...numbers))}` : "",
    `last ${shown(points[points.length - 1]!)}`,
  ].filter(Boolean);
  const count = `${history.total} point${history.total === 1 ? "" : "s"}`;
  return `${sparkline(points)}  ${stats.join(", ")} (${count})`;
}

/** A point's value for the curve's height: finite numbers only. */
function finite(p: MetricHistoryPoint): number | undefined {
  return p.value !== null && Number.isFinite(p.value) ? p.value : undefined;
}

/** A point's value for min and max: ±Infinity count (as in history.ts), NaN does not. */
function numeric(p: MetricHistoryPoint): number | undefined {
  if (p.value !== null) {
    return p.value;
  }
  return p.text === "Infinity" ? Infinity : p.text === "-Infinity" ? -Infinity : undefined;
}

function shown(p: MetricHistoryPoint): string {
  return p.text ?? (p.value === null ? "NaN" : format(p.value));
}

/** Six significant digits: enough to tell values apart, short enough for one line. */
function format(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}
