/**
 * A long metric history by time, or within a time range, downsampled from the stored rollups
 * (store/rollups.ts) instead of a scan. Rollups are keyed by step, and each knows its time span
 * (its first and last point by time), so a read walks the rollup levels from the coarsest down:
 *
 * 1. The cover of the ranges: a rollup wholly inside the step and time ranges is taken, one
 *    outside them dropped, one across an edge split into its children one level finer; a finest
 *    bucket across an edge is read as points (SQL filters them).
 * 2. Within the cover, a rollup whose span on the x axis is an output bucket wide or more is split
 *    the same way. Where timestamps grow with steps, as training logs them, this stops at the
 *    coarsest level that fits, as the step path does; where they do not (a step logged again
 *    later, many points at one step), only those buckets are split down to their points.
 * 3. Each output bucket merges the rollups that start in it and the points in it, and keeps their
 *    first, lowest, highest and last point and first NaN, as the step path does; `total` is exact.
 */
import type { MetricHistory, MetricHistoryPoint } from "../../../schemas/api";
import type { Db } from "../store/db";
import {
  ROLLUP_WIDTHS,
  addPoint,
  ensureRollups,
  mergeInto,
  pointRollup,
  readRollups,
  type Rollup,
  type RollupPoint,
  type StoredRollup,
} from "../store/rollups";
import { statement } from "../store/statements";
import type { HistoryQuery } from "./history";
import { KEPT_PER_BUCKET, byStep, byTime, keptPoints } from "./history-rollups";

/** An inclusive range of steps or of timestamps. */
export type Range = [number, number];

interface Series {
  db: Db;
  runId: string;
  key: string;
  steps: Range;
  times: Range;
}

/** Rollups and finest buckets read as points that hold each point of the ranges once. */
interface Cover {
  rollups: StoredRollup[];
  /** Step ranges of finest buckets to read point by point (within the step and time ranges). */
  raw: Range[];
}

type Verdict = "take" | "drop" | "split";

/** Where a rollup or a point lies on the x axis. */
interface Axis {
  start(r: Rollup): number;
  end(r: Rollup): number;
  at(p: RollupPoint): number;
}

const axes: Record<HistoryQuery["x"], Axis> = {
  step: { start: (r) => r.first.step, end: (r) => r.last.step, at: (p) => p.step },
  time: {
    start: (r) => r.firstByTime.timestamp,
    end: (r) => r.lastByTime.timestamp,
    at: (p) => p.timestamp,
  },
};

const TOP = ROLLUP_WIDTHS.length - 1;

/** The downsampled history, or undefined when every point of the ranges fits (the scan's case). */
export function fromRollupsByTime(
  db: Db,
  runId: string,
  query: HistoryQuery,
  steps: Range,
  times: Range,
): MetricHistory | undefined {
  const plan = planFromRollups(db, runId, query, steps, times);
  if (!plan) {
    return undefined;
  }
  const s: Series = { db, runId, key: query.key, steps, times };
  const axis = axes[query.x];
  const buckets = new Map<number, Rollup>();
  const indexOf = (x: number) => Math.min(plan.count - 1, Math.floor((x - plan.lo) / plan.width));
  for (const r of plan.rollups) {
    const i = indexOf(axis.start(r));
    const current = buckets.get(i);
    buckets.set(i, current ? mergeInto(current, r) : r);
  }
  for (const range of plan.raw) {
    for (const p of rawPoints(s, range)) {
      const i = indexOf(axis.at(p));
      const current = buckets.get(i);
      if (current) {
        addPoint(current, p);
      } else {
        buckets.set(i, pointRollup(p));
      }
    }
  }

  // Rollups may overlap in time (timestamps out of step order), so sort the kept points whole.
  const points: MetricHistoryPoint[] = [];
  for (const r of buckets.values()) {
    points.push(...keptPoints(r, query.x));
  }
  points.sort(query.x === "step" ? byStep : byTime);
  return { runId, key: query.key, total: plan.total, downsampled: true, points };
}

/** What a read takes: whole rollups, step ranges read point by point, and its output buckets. */
export interface Plan {
  /** Points in the ranges. */
  total: number;
  /** The output buckets: `count` of `width` on the x axis from `lo`. */
  lo: number;
  count: number;
  width: number;
  /** Each lies in the ranges and spans less than an output bucket on the x axis. */
  rollups: StoredRollup[];
  /** Finest buckets across an edge of the ranges, or with points an output bucket apart or more. */
  raw: Range[];
}

/** The plan of a downsampled read, or undefined when every point of the ranges fits. */
export function planFromRollups(
  db: Db,
  runId: string,
  query: HistoryQuery,
  steps: Range,
  times: Range,
): Plan | undefined {
  ensureRollups(db, runId, query.key);
  const s: Series = { db, runId, key: query.key, steps, times };
  const axis = axes[query.x];

  const top = ROLLUP_WIDTHS[TOP]!;
  const cover = walk(s, [], [[Math.floor(steps[0] / top), Math.floor(steps[1] / top)]], (r) =>
    placeInRanges(r, steps, times),
  );
  const extent: Extent = { total: 0, lo: Infinity, hi: -Infinity };
  for (const r of cover.rollups) {
    widen(extent, { total: r.n, lo: axis.start(r), hi: axis.end(r) });
  }
  for (const range of cover.raw) {
    widen(extent, rawExtent(s, range, query.x));
  }
  if (extent.total <= query.points) {
    return undefined;
  }

  const count = Math.max(1, Math.floor(query.points / KEPT_PER_BUCKET));
  const width = (extent.hi - extent.lo + 1) / count;
  const fine = walk(s, cover.rollups, [], (r) =>
    axis.end(r) - axis.start(r) < width ? "take" : "split",
  );
  const raw = joined([...cover.raw, ...fine.raw]);
  return { total: extent.total, lo: extent.lo, count, width, rollups: fine.rollups, raw };
}

/** Whether a rollup lies inside the step and time ranges, outside them, or across an edge. */
function placeInRanges(r: StoredRollup, [s0, s1]: Range, [t0, t1]: Range): Verdict {
  const from = r.firstByTime.timestamp;
  const to = r.lastByTime.timestamp;
  if (r.last.step < s0 || r.first.step > s1 || to < t0 || from > t1) {
    return "drop";
  }
  const inside = r.first.step >= s0 && r.last.step <= s1 && from >= t0 && to <= t1;
  return inside ? "take" : "split";
}

/**
 * Judges the rollups of `start` and those of bucket ranges `topRanges` at the coarsest width,
 * then, level by level, the children of each one split; a finest bucket split becomes a raw range.
 */
function walk(
  s: Series,
  start: StoredRollup[],
  topRanges: Range[],
  judge: (r: StoredRollup) => Verdict,
): Cover {
  const cover: Cover = { rollups: [], raw: [] };
  let ranges = topRanges;
  for (let level = TOP; level >= 0; level--) {
    const width = ROLLUP_WIDTHS[level]!;
    const candidates = start.filter((r) => r.width === width);
    for (const [from, to] of ranges) {
      for (const r of readRollups(s.db, s.runId, s.key, width, from, to)) {
        candidates.push(r);
      }
    }
    const split: number[] = [];
    for (const r of candidates) {
      const verdict = judge(r);
      if (verdict === "take") {
        cover.rollups.push(r);
      } else if (verdict === "split") {
        split.push(r.bucket);
      }
    }
    // Children one level finer, or at the finest level the bucket's own steps.
    const factor = level === 0 ? width : width / ROLLUP_WIDTHS[level - 1]!;
    ranges = joined(split.map((b) => [b * factor, b * factor + factor - 1]));
  }
  cover.raw = ranges;
  return cover;
}

/** Ranges sorted and with neighbours joined: one query each. */
function joined(ranges: Range[]): Range[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && r[0] <= last[1] + 1) {
      last[1] = Math.max(last[1], r[1]);
    } else {
      out.push([r[0], r[1]]);
    }
  }
  return out;
}

interface Extent {
  total: number;
  lo: number;
  hi: number;
}

function widen(into: Extent, e: Extent): void {
  into.total += e.total;
  into.lo = Math.min(into.lo, e.lo);
  into.hi = Math.max(into.hi, e.hi);
}

/** The count and x extent of the points of a raw range inside the step and time ranges. */
function rawExtent(s: Series, [from, to]: Range, x: HistoryQuery["x"]): Extent {
  const column = x === "step" ? "step" : "timestamp";
  const row = statement(
    s.db,
    `SELECT COUNT(*) AS total, MIN(${column}) AS lo, MAX(${column}) AS hi FROM metrics
     WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? AND timestamp BETWEEN ? AND ?`,
  ).get(s.runId, s.key, ...clip([from, to], s.steps), ...s.times) as {
    total: number;
    lo: number | null;
    hi: number | null;
  };
  return { total: row.total, lo: row.lo ?? Infinity, hi: row.hi ?? -Infinity };
}

/** The points of a raw range inside the step and time ranges, in step order and as written. */
function* rawPoints(s: Series, range: Range): Generator<RollupPoint> {
  const rows = statement(
    s.db,
    `SELECT step, timestamp, value, text FROM metrics
     WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? AND timestamp BETWEEN ? AND ?
     ORDER BY step, timestamp, rowid`,
  )
    .raw(true)
    .iterate(s.runId, s.key, ...clip(range, s.steps), ...s.times) as IterableIterator<
    [number, number, number | null, string | null]
  >;
  for (const [step, timestamp, value, text] of rows) {
    yield { step, timestamp, value, text };
  }
}

function clip([from, to]: Range, [lo, hi]: Range): Range {
  return [Math.max(from, lo), Math.min(to, hi)];
}
