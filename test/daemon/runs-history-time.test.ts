/**
 * Histories by time, and within a time range, come from the stored rollups (#3): checked against
 * a brute-force pass over the points on random series (spikes, flat stretches, NaN and ±Infinity,
 * written in shuffled chunks), in order, out of order (stray timestamps, a resumed stretch logged
 * again later, many points at one step) and all at one step, over step and time ranges and point
 * counts. Where timestamps follow steps no bucket is read point by point; where they do not, only
 * the buckets that break the order are.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { MetricHistory, MetricHistoryPoint } from "../../schemas/api";
import { SCHEMA_VERSION, openDb, type Db } from "../../daemon/src/store/db";
import { ensureExperiment } from "../../daemon/src/store/experiments";
import { ROLLUP_WIDTHS } from "../../daemon/src/store/rollups";
import { createRun, logMetrics } from "../../daemon/src/store/runs";
import { metricHistoryFor, type HistoryQuery } from "../../daemon/src/tracking/history";
import { planFromRollups } from "../../daemon/src/tracking/history-time";
import { removeDir, tempDir } from "../helpers";

const T0 = 1_700_000_000_000;
const FINEST = ROLLUP_WIDTHS[0];
const ALL: [number, number] = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];

/** A logged point and its place in write order. */
interface Logged {
  step: number;
  timestamp: number;
  value: number | null;
  text: string | null;
  order: number;
  /** Logged out of the step order of timestamps (the generator knows). */
  stray?: boolean;
}

/** Mulberry32: the same series on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value: mostly a random walk rounded to tenths (so ties), some spikes, NaN and ±Infinity. */
function valuer(r: () => number): () => Pick<Logged, "value" | "text"> {
  let walk = 0;
  return () => {
    const u = r();
    if (u < 0.001) {
      return { value: null, text: "NaN" };
    }
    if (u < 0.0015) {
      return { value: null, text: r() < 0.5 ? "Infinity" : "-Infinity" };
    }
    if (u < 0.004) {
      return { value: Math.round((r() < 0.5 ? -1 : 1) * 1e6 * (1 + r())), text: null };
    }
    walk += r() - 0.5;
    return { value: Math.round(walk * 10) / 10 + 0, text: null }; // + 0: no -0, which SQLite drops
  };
}

type Shape = "in order" | "out of order" | "one step";

/** A series in the order it is written. */
function series(shape: Shape, seed: number): Logged[] {
  const r = random(seed);
  const value = valuer(r);
  const n = shape === "one step" ? 20_000 : 40_000;
  const points: Omit<Logged, "order">[] = [];
  let step = shape === "one step" ? 0 : -3000;
  let timestamp = T0;
  for (let i = 0; i < n; i++) {
    points.push({ step, timestamp, ...value() });
    if (shape !== "one step") {
      step += r() < 0.02 ? 1 + Math.floor(r() * 300) : 1; // some gaps
    }
    timestamp += Math.floor(r() * 50); // equal timestamps too
  }
  const end = timestamp;
  if (shape === "out of order") {
    // A few points stamped anywhere in the run (a clock jump, a point logged late).
    for (const p of points) {
      if (r() < 0.001) {
        p.timestamp = T0 + Math.floor(r() * (end - T0 + 3_600_000));
        p.stray = true;
      }
    }
    // A resumed run logs 2,000 of its steps again an hour later, and one step 500 times.
    const resumed = points.slice(15_000, 17_000).map((p, i) => ({
      ...p,
      ...value(),
      timestamp: end + 3_600_000 + i * 20,
      stray: true,
    }));
    const repeated = Array.from({ length: 500 }, (_, i) => ({
      step: points[9_000]!.step,
      timestamp: T0 + Math.floor(((end - T0) * i) / 500),
      ...value(),
      stray: true,
    }));
    points.push(...resumed, ...repeated);
  }
  // Written in chunks of 1,000 in a shuffled order, as parallel or resumed writers do.
  const chunks: (typeof points)[] = [];
  for (let i = 0; i < points.length; i += 1000) {
    chunks.push(points.slice(i, i + 1000));
  }
  for (let i = chunks.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
  }
  return chunks.flat().map((p, order) => ({ ...p, order }));
}

interface Run {
  runId: string;
  points: Logged[];
}

let dir = "";
let db: Db;
const runs = new Map<Shape, Run>();

before(async () => {
  dir = await tempDir("lathe-history-time-");
  db = openDb(join(dir, "lathe.db"));
  const experimentId = ensureExperiment(db, "time").id;
  const shapes: Shape[] = ["in order", "out of order", "one step"];
  for (const [i, shape] of shapes.entries()) {
    const runId = createRun(db, { experimentId, name: shape });
    const points = series(shape, 17 + i);
    for (let c = 0; c < points.length; c += 1000) {
      logMetrics(
        db,
        runId,
        points.slice(c, c + 1000).map((p) => ({ key: "loss", ...p })),
      );
    }
    runs.set(shape, { runId, points });
  }
});

after(async () => {
  db.close();
  await removeDir(dir);
});

const xOf = (x: HistoryQuery["x"], p: { step: number; timestamp: number }) =>
  x === "time" ? p.timestamp : p.step;

const keyOf = (p: {
  step: number;
  timestamp: number;
  value: number | null;
  text?: string | null;
}) => `${p.step}/${p.timestamp}/${p.value}/${p.text ?? null}`;

const numeric = (p: { value: number | null; text?: string | null }) =>
  p.value ?? (p.text === "Infinity" ? Infinity : p.text === "-Infinity" ? -Infinity : undefined);

const asPoint = (p: Logged): MetricHistoryPoint => ({
  step: p.step,
  timestamp: p.timestamp,
  value: p.value,
  ...(p.text === null ? {} : { text: p.text as MetricHistoryPoint["text"] }),
});

/** The points of a query's ranges, in the order a scan returns them. */
function inRanges(points: Logged[], q: HistoryQuery): Logged[] {
  const inside = points.filter(
    (p) =>
      p.step >= (q.minStep ?? -Infinity) &&
      p.step <= (q.maxStep ?? Infinity) &&
      p.timestamp >= (q.minTime ?? -Infinity) &&
      p.timestamp <= (q.maxTime ?? Infinity),
  );
  const other = (p: Logged) => (q.x === "time" ? p.step : p.timestamp);
  return inside.sort(
    (a, b) => xOf(q.x, a) - xOf(q.x, b) || other(a) - other(b) || a.order - b.order,
  );
}

/**
 * What any downsampled answer must hold, from the brute-force buckets of width w: only logged
 * points, sorted, both ends kept; a point that is the strict extreme (or the only NaN) of its
 * bucket and the two beside it survives (a rollup starts in its bucket and spans less than w, so
 * the points merged with it lie in those three); and no logged point is more than w from a kept one.
 */
function check(h: MetricHistory, points: Logged[], q: HistoryQuery, label: string): void {
  const inside = inRanges(points, q);
  assert.equal(h.total, inside.length, `${label}: total`);
  if (inside.length <= q.points) {
    assert.equal(h.downsampled, false, label);
    assert.deepEqual(h.points, inside.map(asPoint), `${label}: every point, in order`);
    return;
  }
  assert.equal(h.downsampled, true, label);
  assert.ok(h.points.length <= q.points, `${label}: ${h.points.length} points`);

  const xs = h.points.map((p) => xOf(q.x, p));
  assert.ok(
    xs.every((x, i) => i === 0 || xs[i - 1]! <= x),
    `${label}: sorted by x`,
  );
  const left = new Map<string, number>();
  for (const p of inside) {
    left.set(keyOf(p), (left.get(keyOf(p)) ?? 0) + 1);
  }
  for (const p of h.points) {
    const n = left.get(keyOf(p)) ?? 0;
    assert.ok(n > 0, `${label}: ${keyOf(p)} was logged in the ranges`);
    left.set(keyOf(p), n - 1);
  }
  const lo = xOf(q.x, inside[0]!);
  const hi = xOf(q.x, inside.at(-1)!);
  assert.equal(xs[0], lo, `${label}: the first point`);
  assert.equal(xs.at(-1), hi, `${label}: the last point`);

  const count = Math.max(1, Math.floor(q.points / 5));
  const w = (hi - lo + 1) / count;
  const kept = new Set(h.points.map(keyOf));
  for (const p of survivors(inside, q.x, lo, w, count)) {
    assert.ok(kept.has(keyOf(p)), `${label}: ${keyOf(p)} (an extreme or a lone NaN) is kept`);
  }
  for (const p of inside) {
    const x = xOf(q.x, p);
    assert.ok(nearest(xs, x) <= w, `${label}: a kept point within ${w} of x=${x}`);
  }
}

/** Points that are the strict max or min, or the only NaN, of their bucket and its neighbours. */
function survivors(inside: Logged[], x: HistoryQuery["x"], lo: number, w: number, count: number) {
  interface Stats {
    max?: Logged;
    max2: number;
    min?: Logged;
    min2: number;
    nans: Logged[];
  }
  const stats: Stats[] = Array.from({ length: count }, () => ({
    max2: -Infinity,
    min2: Infinity,
    nans: [],
  }));
  for (const p of inside) {
    const s = stats[Math.min(count - 1, Math.floor((xOf(x, p) - lo) / w))]!;
    const v = numeric(p);
    if (v === undefined) {
      s.nans.push(p);
      continue;
    }
    if (!s.max || v > numeric(s.max)!) {
      s.max2 = s.max ? numeric(s.max)! : -Infinity;
      s.max = p;
    } else {
      s.max2 = Math.max(s.max2, v);
    }
    if (!s.min || v < numeric(s.min)!) {
      s.min2 = s.min ? numeric(s.min)! : Infinity;
      s.min = p;
    } else {
      s.min2 = Math.min(s.min2, v);
    }
  }
  const out: Logged[] = [];
  stats.forEach((s, k) => {
    const near = [stats[k - 1], stats[k + 1]].filter((n) => n !== undefined);
    const top = s.max && numeric(s.max)!;
    if (top !== undefined && top > s.max2 && near.every((n) => !n.max || numeric(n.max)! < top)) {
      out.push(s.max!);
    }
    const bottom = s.min && numeric(s.min)!;
    if (
      bottom !== undefined &&
      bottom < s.min2 &&
      near.every((n) => !n.min || numeric(n.min)! > bottom)
    ) {
      out.push(s.min!);
    }
    if (s.nans.length === 1 && near.every((n) => n.nans.length === 0)) {
      out.push(s.nans[0]!);
    }
  });
  return out;
}

/** The distance from x to the closest of sorted xs. */
function nearest(xs: number[], x: number): number {
  let [a, b] = [0, xs.length - 1];
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (xs[m]! <= x) {
      a = m;
    } else {
      b = m;
    }
  }
  return Math.min(Math.abs(xs[a]! - x), Math.abs(xs[b]! - x));
}

/** Random queries over a series: whole, time ranges, step ranges, both, by time and by step. */
function queries(points: Logged[], seed: number): HistoryQuery[] {
  const r = random(seed);
  const times = points.map((p) => p.timestamp).sort((a, b) => a - b);
  const steps = points.map((p) => p.step).sort((a, b) => a - b);
  const pick = (sorted: number[]): [number, number] => {
    const [a, b] = [r(), r()].sort((u, v) => u - v);
    return [sorted[Math.floor(a! * sorted.length)]!, sorted[Math.floor(b! * sorted.length)]!];
  };
  const out: HistoryQuery[] = [];
  for (const points of [10, 100, 1000, 2000]) {
    out.push({ key: "loss", points, x: "time" });
  }
  for (let i = 0; i < 10; i++) {
    const points = [10, 50, 500, 2000][i % 4]!;
    const [minTime, maxTime] = pick(times);
    const [minStep, maxStep] = pick(steps);
    out.push({ key: "loss", points, x: "time", minTime, maxTime });
    out.push({ key: "loss", points, x: "time", minStep, maxStep });
    out.push({ key: "loss", points, x: "time", minStep, maxStep, minTime: times[0], maxTime });
    out.push({ key: "loss", points, x: "step", minTime, maxTime });
  }
  // A narrow time range holds fewer points than asked: every one comes back.
  out.push({ key: "loss", points: 2000, x: "time", minTime: times[100], maxTime: times[1500] });
  return out;
}

for (const [i, shape] of (["in order", "out of order", "one step"] as const).entries()) {
  test(`a history by time of a series ${shape} matches a brute-force pass over its points`, () => {
    const { runId, points } = runs.get(shape)!;
    for (const q of queries(points, 100 + i)) {
      check(metricHistoryFor(db, runId, q), points, q, `${shape} ${JSON.stringify(q)}`);
    }
  });
}

const plan = (shape: Shape, q: Partial<HistoryQuery>) => {
  const query: HistoryQuery = { key: "loss", points: 2000, x: "time", ...q };
  const range = (lo?: number, hi?: number): [number, number] => [lo ?? ALL[0], hi ?? ALL[1]];
  const { runId } = runs.get(shape)!;
  const p = planFromRollups(
    db,
    runId,
    query,
    range(query.minStep, query.maxStep),
    range(query.minTime, query.maxTime),
  );
  assert.ok(p, "downsampled from rollups");
  return p;
};

const finestBuckets = (ranges: [number, number][]) =>
  ranges.flatMap(([from, to]) => {
    const out: number[] = [];
    for (let b = Math.floor(from / FINEST); b <= Math.floor(to / FINEST); b++) {
      out.push(b);
    }
    return out;
  });

test("where timestamps follow steps, no bucket is read point by point but at a range's edges", () => {
  assert.deepEqual(plan("in order", {}).raw, []);
  const times = runs
    .get("in order")!
    .points.map((p) => p.timestamp)
    .sort((a, b) => a - b);
  // Half the run in 40 buckets: over 64 steps (the finest rollups) each.
  const zoomed = plan("in order", { points: 200, minTime: times[12_345], maxTime: times[32_345] });
  assert.ok(zoomed.raw.length <= 2, JSON.stringify(zoomed.raw));
  assert.ok(finestBuckets(zoomed.raw).length <= 2, JSON.stringify(zoomed.raw));
  assert.ok(zoomed.rollups.length > 100, `${zoomed.rollups.length} rollups`);
});

test("where timestamps leave step order, only the buckets holding those points are read point by point", () => {
  const { points } = runs.get("out of order")!;
  const strays = new Set(points.filter((p) => p.stray).map((p) => Math.floor(p.step / FINEST)));
  const p = plan("out of order", {});
  const raw = finestBuckets(p.raw);
  assert.ok(raw.length > 0);
  assert.deepEqual(
    raw.filter((b) => !strays.has(b)),
    [],
    "no bucket in step order is read point by point",
  );
  const rawPoints = points.filter((q) => raw.includes(Math.floor(q.step / FINEST))).length;
  assert.ok(rawPoints < points.length / 4, `${rawPoints} of ${points.length} read as points`);
});

test("a series logged at one step is read point by point, and still downsampled right", () => {
  const p = plan("one step", {});
  assert.deepEqual(p.rollups, []);
  assert.deepEqual(p.raw, [[0, FINEST - 1]]);
});

test("rollups stored before they kept time are made again on the first read", async () => {
  const old = await tempDir("lathe-history-time-migration-");
  try {
    const file = join(old, "lathe.db");
    const before = openDb(file, SCHEMA_VERSION - 1);
    const runId = createRun(before, { experimentId: ensureExperiment(before, "m").id, name: "m" });
    const { points } = runs.get("in order")!;
    logMetrics(
      before,
      runId,
      points.slice(0, 5000).map((p) => ({ key: "loss", ...p })),
    );
    // What that schema stored: the queue folded into rollups of five points (20 float64s).
    before.prepare("DELETE FROM metric_rollups_queue").run();
    before
      .prepare(
        "INSERT INTO metric_rollups (run_id, key, width, bucket, n, points) VALUES (?, 'loss', 64, 0, 1, zeroblob(160))",
      )
      .run(runId);
    before.close();

    const after = openDb(file);
    try {
      assert.equal(after.prepare("SELECT COUNT(*) FROM metric_rollups").pluck().get(), 0);
      const q: HistoryQuery = { key: "loss", points: 500, x: "time" };
      check(metricHistoryFor(after, runId, q), points.slice(0, 5000), q, "migrated");
      assert.equal(after.prepare("SELECT COUNT(*) FROM metric_rollups_pending").pluck().get(), 0);
    } finally {
      after.close();
    }
  } finally {
    await removeDir(old);
  }
});
