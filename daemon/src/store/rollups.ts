/**
 * Metric rollups: per run, key and step bucket (64 to 262,144 steps wide), the bucket's point
 * count, its first, last, lowest, highest and first NaN point, and its first and last point by
 * time (so its time span too), so a chart of a million-point series, by step or by time, is drawn
 * from a few thousand rows instead of a scan (tracking/history*.ts).
 *
 * A write of points only queues their rowid range (`metric_rollups_queue`, in the write's
 * transaction); the daemon folds the queue soon after, off the request path
 * (tracking/rollup-folder.ts), and a read folds what its run still has queued before it reads
 * rollups, so a read never sees them stale. Series written before rollups existed are listed in
 * `metric_rollups_pending` by their migration and rolled up the first time they are read.
 */
import type { Db } from "./db";
import { statement } from "./statements";

/** Bucket widths in steps, finest first: a read uses at most 8 rollups per output bucket. */
export const ROLLUP_WIDTHS = [64, 512, 4096, 32768, 262144] as const;

export interface RollupPoint {
  step: number;
  timestamp: number;
  value: number | null;
  text: string | null;
}

export interface Rollup {
  n: number;
  /** First and last by step (then timestamp). */
  first: RollupPoint;
  last: RollupPoint;
  min?: RollupPoint;
  max?: RollupPoint;
  nan?: RollupPoint;
  /** First and last by timestamp (then step): the bucket's earliest and latest timestamps. */
  firstByTime: RollupPoint;
  lastByTime: RollupPoint;
}

/** A rollup as stored: its width and its bucket (steps `bucket * width` to the next bucket's). */
export interface StoredRollup extends Rollup {
  width: number;
  bucket: number;
}

/** A point's value for min/max: ±Infinity count, NaN does not (undefined). */
export function numericValue(p: RollupPoint): number | undefined {
  if (p.value !== null) {
    return p.value;
  }
  return p.text === "Infinity" ? Infinity : p.text === "-Infinity" ? -Infinity : undefined;
}

const before = (a: RollupPoint, b: RollupPoint) =>
  a.step < b.step || (a.step === b.step && a.timestamp < b.timestamp);

/** Whether `a` comes before `b` in time order (timestamp, then step). */
const earlier = (a: RollupPoint, b: RollupPoint) =>
  a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.step < b.step);

/** A rollup of one point. */
export function pointRollup(p: RollupPoint): Rollup {
  // Every rollup has the same fields in the same order: one shape for the code that folds them.
  const isNaNPoint = numericValue(p) === undefined;
  return {
    n: 1,
    first: p,
    last: p,
    min: isNaNPoint ? undefined : p,
    max: isNaNPoint ? undefined : p,
    nan: isNaNPoint ? p : undefined,
    firstByTime: p,
    lastByTime: p,
  };
}

/**
 * Folds `b` (written later) into `a`, in place: first and NaN keep the earlier point on a tie,
 * last takes the later write, min and max keep the earliest of equal values.
 */
export function mergeInto(a: Rollup, b: Rollup): Rollup {
  a.n += b.n;
  if (before(b.first, a.first)) {
    a.first = b.first;
  }
  if (!before(b.last, a.last)) {
    a.last = b.last;
  }
  if (earlier(b.firstByTime, a.firstByTime)) {
    a.firstByTime = b.firstByTime;
  }
  if (!earlier(b.lastByTime, a.lastByTime)) {
    a.lastByTime = b.lastByTime;
  }
  if (b.min && (!a.min || lower(b.min, a.min))) {
    a.min = b.min;
  }
  if (b.max && (!a.max || higher(b.max, a.max))) {
    a.max = b.max;
  }
  if (b.nan && (!a.nan || before(b.nan, a.nan))) {
    a.nan = b.nan;
  }
  return a;
}

/** Adds one point (written after everything in `r`) to `r` in place, allocating nothing. */
export function addPoint(r: Rollup, p: RollupPoint): void {
  r.n += 1;
  if (before(p, r.first)) {
    r.first = p;
  }
  if (!before(p, r.last)) {
    r.last = p;
  }
  if (earlier(p, r.firstByTime)) {
    r.firstByTime = p;
  }
  if (!earlier(p, r.lastByTime)) {
    r.lastByTime = p;
  }
  const v = numericValue(p);
  if (v === undefined) {
    if (!r.nan || before(p, r.nan)) {
      r.nan = p;
    }
    return;
  }
  if (!r.min || lower(p, r.min)) {
    r.min = p;
  }
  if (!r.max || higher(p, r.max)) {
    r.max = p;
  }
}

function lower(y: RollupPoint, x: RollupPoint): boolean {
  const [vy, vx] = [numericValue(y)!, numericValue(x)!];
  return vy < vx || (vy === vx && before(y, x));
}

function higher(y: RollupPoint, x: RollupPoint): boolean {
  const [vy, vx] = [numericValue(y)!, numericValue(x)!];
  return vy > vx || (vy === vx && before(y, x));
}

const POINTS = ["first", "last", "min", "max", "nan", "firstByTime", "lastByTime"] as const;
const TEXTS = [null, "NaN", "Infinity", "-Infinity"] as const;

interface Row {
  bucket: number;
  n: number;
  points: Buffer;
}

/**
 * The seven points as one blob of 28 float64s (step, timestamp, value, text code each; a missing
 * point has a NaN step): binding one blob instead of 28 values halves the cost of a write.
 */
function pack(r: Rollup): Buffer {
  const out = new Float64Array(4 * POINTS.length);
  POINTS.forEach((k, i) => {
    const p = r[k];
    out[i * 4] = p ? p.step : NaN;
    out[i * 4 + 1] = p ? p.timestamp : NaN;
    out[i * 4 + 2] = p?.value ?? NaN;
    out[i * 4 + 3] = p ? Math.max(0, TEXTS.indexOf(p.text as (typeof TEXTS)[number])) : 0;
  });
  return Buffer.from(out.buffer);
}

function unpack(row: Row, width = 0): StoredRollup {
  // Read in place: no copy of the blob, and one object for a point kept twice (first by step and
  // by time, first and min): the objects made here were most of a long history's read.
  const b = row.points;
  const points: (RollupPoint | undefined)[] = [];
  for (let i = 0; i < POINTS.length; i++) {
    const step = b.readDoubleLE(i * 32);
    if (Number.isNaN(step)) {
      points.push(undefined);
      continue;
    }
    const timestamp = b.readDoubleLE(i * 32 + 8);
    const code = b.readDoubleLE(i * 32 + 24);
    const value = code === 0 ? b.readDoubleLE(i * 32 + 16) : null;
    const text = TEXTS[code] ?? null;
    let same: RollupPoint | undefined;
    for (const p of points) {
      if (p?.step === step && p.timestamp === timestamp && p.value === value && p.text === text) {
        same = p;
        break;
      }
    }
    points.push(same ?? { step, timestamp, value, text });
  }
  const [first, last, min, max, nan, firstByTime, lastByTime] = points;
  return {
    n: row.n,
    first: first!,
    last: last!,
    min,
    max,
    nan,
    firstByTime: firstByTime!,
    lastByTime: lastByTime!,
    width,
    bucket: row.bucket,
  };
}

/** Folds points (in write order) into the rollups of their run, inside a transaction. */
export function updateRollups(
  db: Db,
  runId: string,
  points: (RollupPoint & { key: string })[],
): void {
  // The finest buckets from the points, then each coarser width from the one below it.
  const byKey = new Map<string, Map<number, Rollup>>();
  for (const p of points) {
    addToFinest(byKey, p.key, p);
  }
  storeRollups(db, runId, byKey);
}

/** A metrics row as `.raw()` reads it: key, step, timestamp, value, text. */
type RawRow = [string, number, number, number | null, string | null];

/**
 * As updateRollups, from raw rows: a point object is made only for a row that a rollup keeps
 * (a bucket's first or last by step or by time, min, max or NaN), not for each row read back.
 */
function updateRollupsFromRows(db: Db, runId: string, rows: RawRow[]): void {
  const byKey = new Map<string, Map<number, Rollup>>();
  for (const row of rows) {
    const [key, step, timestamp, value, text] = row;
    const buckets = byKey.get(key);
    const r = buckets?.get(Math.floor(step / ROLLUP_WIDTHS[0]));
    // Most rows change nothing kept: a finite value inside the bucket's range, neither first
    // nor last by step or by time. Skip those without making a point of them.
    if (
      r &&
      value !== null &&
      typeof r.min?.value === "number" &&
      typeof r.max?.value === "number" &&
      value > r.min.value &&
      value < r.max.value &&
      after(step, timestamp, r.first) &&
      !after(step, timestamp, r.last, true) &&
      afterInTime(timestamp, step, r.firstByTime) &&
      !afterInTime(timestamp, step, r.lastByTime, true)
    ) {
      r.n += 1;
      continue;
    }
    addToFinest(byKey, key, { step, timestamp, value, text });
  }
  storeRollups(db, runId, byKey);
}

/** Whether (step, timestamp) comes after `p` (or, with `orSame`, ties it). */
function after(step: number, timestamp: number, p: RollupPoint, orSame = false): boolean {
  return (
    step > p.step ||
    (step === p.step && (timestamp > p.timestamp || (orSame && timestamp === p.timestamp)))
  );
}

/** As `after`, in time order: whether (timestamp, step) comes after `p` (or ties it). */
function afterInTime(timestamp: number, step: number, p: RollupPoint, orSame = false): boolean {
  return (
    timestamp > p.timestamp ||
    (timestamp === p.timestamp && (step > p.step || (orSame && step === p.step)))
  );
}

function addToFinest(byKey: Map<string, Map<number, Rollup>>, key: string, p: RollupPoint) {
  let buckets = byKey.get(key);
  if (!buckets) {
    buckets = new Map();
    byKey.set(key, buckets);
  }
  const bucket = Math.floor(p.step / ROLLUP_WIDTHS[0]);
  const r = buckets.get(bucket);
  if (r) {
    addPoint(r, p);
  } else {
    buckets.set(bucket, pointRollup(p));
  }
}

/** Merges the finest rollups of a write, and each coarser width made from them, into the store. */
function storeRollups(db: Db, runId: string, byKey: Map<string, Map<number, Rollup>>): void {
  const read = statement(
    db,
    `SELECT * FROM metric_rollups WHERE run_id = ? AND key = ? AND width = ? AND bucket BETWEEN ? AND ?`,
  );
  const write = statement(
    db,
    `INSERT OR REPLACE INTO metric_rollups (run_id, key, width, bucket, n, points)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  for (const [key, fine] of byKey) {
    let level = fine;
    for (let i = 0; i < ROLLUP_WIDTHS.length; i++) {
      const width = ROLLUP_WIDTHS[i]!;
      if (i > 0) {
        level = coarser(level, width / ROLLUP_WIDTHS[i - 1]!);
      }
      const buckets = [...level.keys()];
      const stored = read.all(
        runId,
        key,
        width,
        Math.min(...buckets),
        Math.max(...buckets),
      ) as Row[];
      const old = new Map(stored.map((row) => [row.bucket, unpack(row)]));
      for (const [bucket, r] of level) {
        // Into the stored rollup, never into `r`: `level` still feeds the next width.
        const prior = old.get(bucket);
        const merged = prior ? mergeInto(prior, r) : r;
        write.run(runId, key, width, bucket, merged.n, pack(merged));
      }
    }
  }
}

/** Buckets `factor` times wider, merged from `fine` (which is left as it was). */
function coarser(fine: Map<number, Rollup>, factor: number): Map<number, Rollup> {
  const out = new Map<number, Rollup>();
  for (const [bucket, r] of fine) {
    const b = Math.floor(bucket / factor);
    const current = out.get(b);
    if (current) {
      mergeInto(current, r);
    } else {
      out.set(b, { ...r });
    }
  }
  return out;
}

/** The stored rollups of buckets `from` to `to` (inclusive), in bucket order. */
export function readRollups(
  db: Db,
  runId: string,
  key: string,
  width: number,
  from: number,
  to: number,
): StoredRollup[] {
  const rows = statement(
    db,
    `SELECT bucket, n, points FROM metric_rollups
     WHERE run_id = ? AND key = ? AND width = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`,
  ).all(runId, key, width, from, to) as Row[];
  return rows.map((row) => unpack(row, width));
}

/** Queues the points of rowids `first` to `last` of a run for folding; inside the write. */
export function queueRollups(db: Db, runId: string, first: number | bigint, last: number | bigint) {
  statement(
    db,
    "INSERT INTO metric_rollups_queue (run_id, first_rowid, last_rowid) VALUES (?, ?, ?)",
  ).run(runId, first, last);
}

/**
 * Folds queued writes into the rollups, oldest first, in one transaction: those of `runId` only
 * when given, at most `limit` of them. Returns how many it folded.
 */
export function foldQueued(db: Db, { runId, limit = -1 }: { runId?: string; limit?: number } = {}) {
  const entries = (
    runId === undefined
      ? statement(db, "SELECT * FROM metric_rollups_queue ORDER BY id LIMIT ?").all(limit)
      : statement(db, "SELECT * FROM metric_rollups_queue WHERE run_id = ? ORDER BY id").all(runId)
  ) as { id: number; run_id: string; first_rowid: number; last_rowid: number }[];
  if (entries.length === 0) {
    return 0;
  }
  const rows = statement(
    db,
    `SELECT key, step, timestamp, value, text FROM metrics
     WHERE rowid BETWEEN ? AND ? AND +run_id = ? ORDER BY rowid`,
  ).raw(true);
  const done = statement(db, "DELETE FROM metric_rollups_queue WHERE id = ?");
  db.transaction(() => {
    // Each run's queued points together and in write order: one fold per run, not per write.
    const byRun = new Map<string, RawRow[]>();
    for (const e of entries) {
      let points = byRun.get(e.run_id);
      if (!points) {
        points = [];
        byRun.set(e.run_id, points);
      }
      for (const row of rows.all(e.first_rowid, e.last_rowid, e.run_id) as RawRow[]) {
        points.push(row);
      }
      done.run(e.id);
    }
    for (const [run, points] of byRun) {
      if (points.length > 0) {
        updateRollupsFromRows(db, run, points);
      }
    }
  })();
  return entries.length;
}

/**
 * Makes a series' rollups current before a read: folds its run's queued writes, and rolls up a
 * series written before rollups existed (once).
 */
export function ensureRollups(db: Db, runId: string, key: string): void {
  foldQueued(db, { runId });
  const pending = db.prepare("SELECT 1 FROM metric_rollups_pending WHERE run_id = ? AND key = ?");
  if (!pending.get(runId, key)) {
    return;
  }
  // Immediate, and folding again inside: a point another process (the CLI) writes after the
  // fold above would otherwise be read below and then folded from its queue entry, twice counted.
  db.transaction(() => {
    if (!pending.get(runId, key)) {
      return; // another process rolled it up meanwhile
    }
    foldQueued(db, { runId });
    db.prepare("DELETE FROM metric_rollups WHERE run_id = ? AND key = ?").run(runId, key);
    const rows = db
      .prepare(
        `SELECT step, timestamp, value, text FROM metrics WHERE run_id = ? AND key = ? ORDER BY rowid`,
      )
      .all(runId, key) as RollupPoint[];
    updateRollups(
      db,
      runId,
      rows.map((r) => ({ ...r, key })),
    );
    db.prepare("DELETE FROM metric_rollups_pending WHERE run_id = ? AND key = ?").run(runId, key);
  }).immediate();
}
