/**
 * Long histories by step come from the stored rollups (#3): checked over HTTP against the data
 * itself (every point returned exists, the extremes, NaN and Infinity survive, totals are exact),
 * for ranges with partial buckets at both ends, out-of-order and negative steps, a series that
 * grows between reads, and a series stored before rollups existed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MetricHistory, MetricHistoryPoint } from "../../schemas/api";
import { ensureExperiment } from "../../daemon/src/store/experiments";
import { createRun, logMetrics } from "../../daemon/src/store/runs";
import { trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

const FIRST = -5000;
const N = 120_000;
const SPECIAL: Record<number, { value: number | null; text?: string }> = {
  54_321: { value: 1000 },
  54_322: { value: -1000 },
  77_777: { value: null, text: "NaN" },
  88_888: { value: null, text: "Infinity" },
};

/** The value the series has at `step`. */
function valueAt(step: number): { value: number | null; text?: string } {
  return SPECIAL[step] ?? { value: Math.round(Math.sin(step / 500) * 1e6) / 1e6 };
}

let t: TrackingDaemon;
let runId = "";

before(async () => {
  t = await trackingDaemon("lathe-rollups-");
  // The run and its points are written in process, before any HTTP: the seconds of writing block
  // the event loop, and a keep-alive socket idle across them would be reset under the next call.
  const db = t.daemon.ctx.db;
  runId = createRun(db, { experimentId: ensureExperiment(db, "rollups").id, name: "long" });
  // Written in chunks in a shuffled order, as resumed or parallel training writes them.
  const chunks = Array.from({ length: N / 1000 }, (_, c) => c).sort(
    (a, b) => ((a * 7919) % 97) - ((b * 7919) % 97),
  );
  for (const c of chunks) {
    const points = Array.from({ length: 1000 }, (_, i) => {
      const step = FIRST + c * 1000 + i;
      return { key: "loss", step, timestamp: 1_700_000_000_000 + step, ...valueAt(step) };
    });
    logMetrics(db, runId, points);
  }
});

after(async () => {
  await t.close();
});

async function history(query: Record<string, string>): Promise<MetricHistory> {
  const reply = await t.get(`/api/v1/runs/${runId}/metrics/history`, { key: "loss", ...query });
  assert.equal(reply.status, 200, reply.text);
  return reply.json as MetricHistory;
}

function checkAgainstData(h: MetricHistory, lo: number, hi: number, asked: number): void {
  assert.equal(h.downsampled, true);
  assert.equal(h.total, hi - lo + 1);
  // Each of the asked/5 buckets keeps 2 to 5 points (a monotonic stretch has first = min).
  const buckets = asked / 5;
  assert.ok(h.points.length <= asked && h.points.length >= 2 * buckets - 2, `${h.points.length}`);
  const steps = h.points.map((p) => p.step);
  assert.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
    "sorted by step",
  );
  assert.equal(steps[0], lo);
  assert.equal(steps.at(-1), hi);
  for (const p of h.points) {
    const expected = valueAt(p.step);
    assert.equal(p.value, expected.value, `step ${p.step}`);
    assert.equal(p.text, expected.text, `step ${p.step}`);
  }
  const has = (step: number) => steps.includes(step);
  for (const step of Object.keys(SPECIAL)
    .map(Number)
    .filter((s) => s >= lo && s <= hi)) {
    assert.ok(has(step), `the special point at step ${step} survives`);
  }
}

test("a 120,000-point history comes back as at most 2,000 points from the rollups", async () => {
  const h = await history({ points: "2000" });
  checkAgainstData(h, FIRST, FIRST + N - 1, 2000);
});

test("a step range with partial buckets at both ends counts and keeps exactly its points", async () => {
  const h = await history({ points: "500", minStep: "30001", maxStep: "99998" });
  checkAgainstData(h, 30_001, 99_998, 500);
  const outside = h.points.filter((p: MetricHistoryPoint) => p.step < 30_001 || p.step > 99_998);
  assert.deepEqual(outside, []);
});

test("points added after a read show up in the next read", async () => {
  const step = FIRST + N + 10;
  logMetrics(t.daemon.ctx.db, runId, [{ key: "loss", step, value: 5000, timestamp: 1 }]);
  const h = await history({ points: "1000" });
  assert.equal(h.total, N + 1);
  assert.deepEqual(h.points.at(-1), { step, timestamp: 1, value: 5000 });
  assert.ok(h.points.some((p) => p.value === 1000) && h.points.some((p) => p.value === -1000));
});

test("a series stored before rollups existed is rolled up on its first read, with the same answer", async () => {
  const db = t.daemon.ctx.db;
  const before = await history({ points: "2000" });
  db.prepare("DELETE FROM metric_rollups WHERE run_id = ?").run(runId);
  db.prepare("INSERT INTO metric_rollups_pending (run_id, key) VALUES (?, 'loss')").run(runId);
  const again = await history({ points: "2000" });
  assert.deepEqual(again, before);
  const pending = db.prepare("SELECT COUNT(*) FROM metric_rollups_pending").pluck().get();
  assert.equal(pending, 0);
});
