/**
 * A long metric history by step, downsampled from the stored rollups (store/rollups.ts) instead
 * of a scan: the range's whole rollup buckets of the coarsest width that still fits an output
 * bucket, plus the raw rows of the two partial buckets at its ends. Each output bucket keeps the
 * first, lowest, highest and last point and the first NaN of the rollups assigned to it (by the
 * start of each rollup bucket), so spikes survive as in the scan; `total` stays exact.
 */
import type { MetricHistory, MetricHistoryPoint } from "../../../schemas/api";
import type { Db } from "../store/db";
import {
  ROLLUP_WIDTHS,
  ensureRollups,
  mergeInto,
  pointRollup,
  readRollups,
  type Rollup,
  type RollupPoint,
} from "../store/rollups";
import type { HistoryQuery } from "./history";

/** Points kept per output bucket: first, min, max, last and the first NaN. */
export const KEPT_PER_BUCKET = 5;

/** The downsampled history, or undefined when the range is short enough to scan. */
export function fromRollups(
  db: Db,
  runId: string,
  query: HistoryQuery,
  [minStep, maxStep]: [number, number],
): MetricHistory | undefined {
  const edge = (order: "ASC" | "DESC") =>
    db
      .prepare(
        `SELECT step FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ?
         ORDER BY step ${order} LIMIT 1`,
      )
      .pluck()
      .get(runId, query.key, minStep, maxStep) as number | undefined;
  const lo = edge("ASC");
  const hi = edge("DESC");
  if (lo === undefined || hi === undefined) {
    return undefined;
  }
  const count = Math.max(1, Math.floor(query.points / KEPT_PER_BUCKET));
  const width = (hi - lo + 1) / count;
  const rollupWidth = [...ROLLUP_WIDTHS].reverse().find((w) => w <= width);
  const firstFull = rollupWidth === undefined ? 0 : Math.ceil(lo / rollupWidth);
  const lastFull = rollupWidth === undefined ? -1 : Math.floor((hi + 1) / rollupWidth) - 1;
  if (rollupWidth === undefined || firstFull > lastFull) {
    return undefined;
  }

  ensureRollups(db, runId, query.key);
  const stored = readRollups(db, runId, query.key, rollupWidth, firstFull, lastFull);
  const head = rows(db, runId, query.key, lo, firstFull * rollupWidth - 1);
  const tail = rows(db, runId, query.key, (lastFull + 1) * rollupWidth, hi);
  const total = head.length + tail.length + stored.reduce((n, r) => n + r.n, 0);
  if (total <= query.points) {
    return undefined; // Every point fits: the scan returns them all.
  }

  const buckets = new Map<number, Rollup>();
  const indexOf = (step: number) => Math.min(count - 1, Math.floor((step - lo) / width));
  const add = (index: number, r: Rollup) => {
    const current = buckets.get(index);
    buckets.set(index, current ? mergeInto(current, r) : r);
  };
  for (const row of head) {
    add(indexOf(row.step), pointRollup(row));
  }
  for (const r of stored) {
    add(indexOf(r.first.step), r);
  }
  for (const row of tail) {
    add(indexOf(row.step), pointRollup(row));
  }
  const points = [...buckets.keys()]
    .sort((a, b) => a - b)
    .flatMap((i) => keptPoints(buckets.get(i)!, "step"));
  return { runId, key: query.key, total, downsampled: true, points };
}

type Placed = Pick<RollupPoint, "step" | "timestamp">;

/** Step order (then time), and time order (then step), of points. */
export const byStep = (a: Placed, b: Placed) => a.step - b.step || a.timestamp - b.timestamp;
export const byTime = (a: Placed, b: Placed) => a.timestamp - b.timestamp || a.step - b.step;

function rows(db: Db, runId: string, key: string, from: number, to: number): RollupPoint[] {
  if (from > to) {
    return [];
  }
  return db
    .prepare(
      `SELECT step, timestamp, value, text FROM metrics
       WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? ORDER BY step, timestamp, rowid`,
    )
    .all(runId, key, from, to) as RollupPoint[];
}

/**
 * An output bucket's kept points once each, in x order: its first and last on the x axis, its
 * lowest and highest and its first NaN.
 */
export function keptPoints(r: Rollup, x: "step" | "time"): MetricHistoryPoint[] {
  const ends = x === "step" ? [r.first, r.last] : [r.firstByTime, r.lastByTime];
  // Stored rollups come back as separate objects: the same point may be first and min.
  const byId = new Map<string, RollupPoint>();
  for (const p of [ends[0], r.min, r.max, r.nan, ends[1]]) {
    if (p) {
      byId.set(`${p.step}\u0000${p.timestamp}\u0000${p.value}\u0000${p.text}`, p);
    }
  }
  const kept = [...byId.values()];
  kept.sort(x === "step" ? byStep : byTime);
  return kept.map((p) => {
    const point: MetricHistoryPoint = { step: p.step, timestamp: p.timestamp, value: p.value };
    if (p.text !== null) {
      point.text = p.text as MetricHistoryPoint["text"];
    }
    return point;
  });
}
