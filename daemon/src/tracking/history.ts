/**
 * A metric's history for charts, downsampled on the server. The x range (steps or timestamps of
 * the points in the step and time ranges) is cut into equal buckets; each bucket keeps its first,
 * lowest, highest and last point and its first NaN, so a one-step spike or a divergence survives
 * any zoom level. A long range is drawn from the stored rollups (history-rollups.ts by step,
 * history-time.ts by time or within a time range); what is left is scanned here: rows read once,
 * in x order, with only the columns a point needs.
 */
import type { MetricHistory, MetricHistoryPoint } from "../../../schemas/api";
import { LatheError } from "../errors";
import type { Db } from "../store/db";
import { KEPT_PER_BUCKET, fromRollups } from "./history-rollups";
import { fromRollupsByTime, type Range } from "./history-time";
import { requireRun } from "./records";

export interface HistoryQuery {
  key: string;
  /** At most this many points come back (10 to 100000). */
  points: number;
  minStep?: number;
  maxStep?: number;
  /** Unix milliseconds: only points logged from `minTime` to `maxTime`. */
  minTime?: number;
  maxTime?: number;
  x: "step" | "time";
}

/** A row as SQLite gives it in raw mode: [step, timestamp, value, text]. */
type Row = [number, number, number | null, MetricHistoryPoint["text"] | null];

/** The history of one metric of a run; LATHE_NOT_FOUND for an unknown run or key. */
export function metricHistoryFor(db: Db, runId: string, query: HistoryQuery): MetricHistory {
  requireRun(db, runId);
  const known = db
    .prepare("SELECT 1 FROM latest_metrics WHERE run_id = ? AND key = ?")
    .get(runId, query.key);
  if (!known) {
    throw new LatheError("LATHE_NOT_FOUND", `Run ${runId} has no metric '${query.key}'.`, {
      runId,
      key: query.key,
    });
  }

  const steps: Range = [
    query.minStep ?? Number.MIN_SAFE_INTEGER,
    query.maxStep ?? Number.MAX_SAFE_INTEGER,
  ];
  const times: Range = [
    query.minTime ?? Number.MIN_SAFE_INTEGER,
    query.maxTime ?? Number.MAX_SAFE_INTEGER,
  ];
  const byStepOnly =
    query.x === "step" && query.minTime === undefined && query.maxTime === undefined;
  const rolled = byStepOnly
    ? fromRollups(db, runId, query, steps)
    : fromRollupsByTime(db, runId, query, steps, times);
  if (rolled) {
    return rolled;
  }

  const xColumn = query.x === "step" ? "step" : "timestamp";
  const where = "run_id = ? AND key = ? AND step BETWEEN ? AND ? AND timestamp BETWEEN ? AND ?";
  const bounds = db
    .prepare(
      `SELECT COUNT(*) AS n, MIN(${xColumn}) AS lo, MAX(${xColumn}) AS hi FROM metrics
       WHERE ${where}`,
    )
    .get(runId, query.key, ...steps, ...times) as {
    n: number;
    lo: number | null;
    hi: number | null;
  };

  const order = query.x === "step" ? "step, timestamp" : "timestamp, step";
  const rows = db
    .prepare(
      `SELECT step, timestamp, value, text FROM metrics WHERE ${where} ORDER BY ${order}, rowid`,
    )
    .raw()
    .iterate(runId, query.key, ...steps, ...times) as IterableIterator<Row>;

  const downsampled = bounds.n > query.points;
  const kept = downsampled
    ? downsample(rows, bounds.lo!, bounds.hi!, query)
    : Array.from(rows, toPoint);
  return { runId, key: query.key, total: bounds.n, downsampled, points: kept };
}

/** A kept row and its position in x order. */
interface Kept {
  row: Row;
  at: number;
}

interface Bucket {
  first: Kept;
  last: Kept;
  min?: Kept;
  max?: Kept;
  nan?: Kept;
}

/** One pass over rows sorted by x; at most `points` points, still sorted by x. */
function downsample(
  rows: Iterable<Row>,
  lo: number,
  hi: number,
  query: HistoryQuery,
): MetricHistoryPoint[] {
  const count = Math.max(1, Math.floor(query.points / KEPT_PER_BUCKET));
  // Integer x values: the width covers [lo, hi] inclusive, so hi lands in the last bucket.
  const width = (hi - lo + 1) / count;
  const xIndex = query.x === "step" ? 0 : 1;
  const buckets: Bucket[] = [];
  let current: Bucket | undefined;
  let currentIndex = -1;
  let at = 0;
  let min = Infinity;
  let max = -Infinity;

  for (const row of rows) {
    const pos = at++;
    const index = Math.floor((row[xIndex] - lo) / width);
    if (index !== currentIndex || !current) {
      const kept = { row, at: pos };
      current = { first: kept, last: kept };
      currentIndex = index;
      buckets.push(current);
      min = Infinity;
      max = -Infinity;
    } else {
      current.last = { row, at: pos };
    }
    const v = numeric(row);
    if (v === undefined) {
      current.nan ??= { row, at: pos };
      continue;
    }
    // Strict comparisons: a flat bucket keeps its earliest extremes.
    if (v < min || !current.min) {
      min = v;
      current.min = { row, at: pos };
    }
    if (v > max || !current.max) {
      max = v;
      current.max = { row, at: pos };
    }
  }
  return buckets.flatMap(pointsOf);
}

/** A bucket's kept rows once each, in x order. */
function pointsOf(bucket: Bucket): MetricHistoryPoint[] {
  const kept = [bucket.first, bucket.min, bucket.max, bucket.nan, bucket.last];
  const byPosition = new Map<number, Row>();
  for (const k of kept) {
    if (k) {
      byPosition.set(k.at, k.row);
    }
  }
  return [...byPosition.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => toPoint(row));
}

/** A row's value for min/max: ±Infinity count, NaN does not (undefined). */
function numeric(row: Row): number | undefined {
  if (row[2] !== null) {
    return row[2];
  }
  if (row[3] === "Infinity") {
    return Infinity;
  }
  return row[3] === "-Infinity" ? -Infinity : undefined;
}

function toPoint(row: Row): MetricHistoryPoint {
  const point: MetricHistoryPoint = { step: row[0], timestamp: row[1], value: row[2] };
  if (row[3] !== null) {
    point.text = row[3];
  }
  return point;
}
