/**
 * Curve data for the charts, pure (no DOM): smoothing, the x values of either axis, joining runs
 * onto one x axis as uPlot wants, live appends and zoomed ranges. Unit-tested in
 * test/extension/webview-series.test.ts.
 */
import type { SeriesPoints, StepRange, XAxis } from "../../../schemas/webview";

export function emptyPoints(): SeriesPoints {
  return { steps: [], times: [], values: [], texts: [] };
}

/**
 * Exponential moving average with TensorBoard's debiasing, so the first points are not pulled
 * towards 0. `weight` 0 returns the values unchanged; NaN/±Infinity (null) stay gaps and do not
 * enter the average.
 */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) {
    return values.slice();
  }
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) {
      return null;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    return last / (1 - Math.pow(weight, count));
  });
}

/** The points' x values: steps, or wall time in seconds (uPlot's time unit). */
export function xValues(points: SeriesPoints, x: XAxis): number[] {
  return x === "step" ? points.steps : points.times.map((t) => t / 1000);
}

/** The points sorted by their x (time order can differ from step order). */
export function sortedBy(points: SeriesPoints, x: XAxis): { xs: number[]; ys: (number | null)[] } {
  const xs = xValues(points, x);
  const order = xs.map((_, i) => i);
  if (!xs.every((v, i) => i === 0 || xs[i - 1]! <= v)) {
    order.sort((a, b) => xs[a]! - xs[b]!);
  }
  return { xs: order.map((i) => xs[i]!), ys: order.map((i) => points.values[i] ?? null) };
}

/**
 * Joins curves with their own sorted x values onto one ascending x axis (the union), as uPlot's
 * data table wants: `[xs, ys0, ys1, …]`. Where a curve has no point at an x the cell is
 * `undefined`, which uPlot draws across; `null` (NaN, ±Infinity, non-positive on a log scale)
 * stays a gap.
 */
export function join(
  curves: { xs: number[]; ys: (number | null)[] }[],
): [number[], ...(number | null | undefined)[][]] {
  if (curves.length === 0) {
    return [[]];
  }
  const same = curves.every(
    (c) => c.xs.length === curves[0]!.xs.length && c.xs.every((v, i) => v === curves[0]!.xs[i]),
  );
  if (same) {
    return [curves[0]!.xs.slice(), ...curves.map((c) => c.ys.slice())];
  }
  const xs = [...new Set(curves.flatMap((c) => c.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = curves.map((c) => {
    const column = new Array<number | null | undefined>(xs.length).fill(undefined);
    c.xs.forEach((x, i) => {
      column[index.get(x)!] = c.ys[i] ?? null;
    });
    return column;
  });
  return [xs, ...columns];
}

/** For a log scale: values at or below 0 cannot be drawn and become gaps. */
export function positiveOnly(values: (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && v > 0 ? v : null));
}

/** Points logged after the curve's last step, appended; the ones already held are dropped. */
export function appendPoints(held: SeriesPoints, incoming: SeriesPoints): SeriesPoints {
  const last = held.steps.length ? held.steps[held.steps.length - 1]! : -Infinity;
  const out: SeriesPoints = {
    steps: held.steps.slice(),
    times: held.times.slice(),
    values: held.values.slice(),
    texts: held.texts.slice(),
  };
  incoming.steps.forEach((step, i) => {
    if (step > last) {
      out.steps.push(step);
      out.times.push(incoming.times[i]!);
      out.values.push(incoming.values[i] ?? null);
      out.texts.push(incoming.texts[i] ?? null);
    }
  });
  return out;
}

/**
 * The step range to fetch for a zoom to [from, to] on the x axis: on steps it is the range
 * itself (widened to whole steps); on time, the steps of the held points that fall inside it.
 * Null when no point is inside (nothing finer to ask for).
 */
export function zoomRange(
  curves: SeriesPoints[],
  x: XAxis,
  from: number,
  to: number,
): StepRange | null {
  if (x === "step") {
    return { minStep: Math.floor(from), maxStep: Math.ceil(to) };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const c of curves) {
    c.times.forEach((t, i) => {
      const s = t / 1000;
      if (s >= from && s <= to) {
        min = Math.min(min, c.steps[i]!);
        max = Math.max(max, c.steps[i]!);
      }
    });
  }
  return min <= max ? { minStep: min, maxStep: max } : null;
}

/** The x extent of all curves, or null when they are empty. */
export function extent(curves: SeriesPoints[], x: XAxis): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (const c of curves) {
    for (const v of xValues(c, x)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return min <= max ? [min, max] : null;
}

export type NonFiniteKind = "nan" | "posInf" | "negInf";

/**
 * Where a curve has NaN or ±Infinity points (a null value, its word in `texts`), for the chart to
 * mark them: each one's x and kind, in the points' order.
 */
export function nonFiniteMarks(
  points: SeriesPoints,
  x: XAxis,
): { x: number; kind: NonFiniteKind }[] {
  const xs = xValues(points, x);
  const marks: { x: number; kind: NonFiniteKind }[] = [];
  points.values.forEach((value, i) => {
    if (value !== null) {
      return;
    }
    const text = points.texts[i];
    const kind = text === "Infinity" ? "posInf" : text === "-Infinity" ? "negInf" : "nan";
    marks.push({ x: xs[i]!, kind });
  });
  return marks;
}
