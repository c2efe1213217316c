/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument --
   Error bodies are read field by field. */
/** GET /api/v1/runs/:id/metrics/history: exact downsampling, NaN and ±Infinity, ranges, 4xx. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MetricHistory } from "../../schemas/api";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
let runId: string;

/** Steps 0..999, value 1 except: NaN at 260, a spike (100) at 510, a dip (-50) at 733, +Inf at 905. */
const special: Record<number, number | string> = {
  260: "NaN",
  510: 100,
  733: -50,
  905: "Infinity",
};

before(async () => {
  d = await trackingDaemon("lathe-history-");
  runId = (await d.post(`${M}/runs/create`, { run_name: "curves" })).json.run.info.run_id;
  const metrics = Array.from({ length: 1000 }, (_, step) => ({
    key: "loss",
    value: special[step] ?? 1,
    step,
    timestamp: 1_000_000 + step,
  }));
  assert.equal((await d.post(`/api/v1/runs/${runId}/batch`, { metrics })).status, 200);
  // Time order differs from step order for this metric.
  const late = [
    { key: "lr", value: 0.1, step: 5, timestamp: 100 },
    { key: "lr", value: 0.2, step: 1, timestamp: 200 },
    { key: "lr", value: 0.3, step: 3, timestamp: 300 },
  ];
  assert.equal((await d.post(`/api/v1/runs/${runId}/batch`, { metrics: late })).status, 200);
});

after(async () => {
  await d.close();
});

async function history(query: Record<string, string>, id = runId) {
  return d.get(`/api/v1/runs/${id}/metrics/history`, query);
}

async function ok(query: Record<string, string>): Promise<MetricHistory> {
  const r = await history(query);
  assert.equal(r.status, 200, r.text);
  return r.json as MetricHistory;
}

test("100 points over 1000 steps keep each bucket's first, min, max, NaN and last", async () => {
  const h = await ok({ key: "loss", points: "100" });
  assert.equal(h.total, 1000);
  assert.equal(h.downsampled, true);
  assert.ok(h.points.length <= 100);

  // 20 buckets of 50 steps; flat buckets keep their first and last step only.
  const expected = new Set<number>([260, 510, 733, 905]);
  for (let k = 0; k < 20; k++) {
    expected.add(50 * k).add(50 * k + 49);
  }
  const steps = h.points.map((p) => p.step);
  assert.deepEqual(
    steps,
    [...expected].sort((a, b) => a - b),
  );
});

test("the spike, the dip, NaN and Infinity survive with their values", async () => {
  const h = await ok({ key: "loss", points: "100" });
  const at = (step: number) => h.points.find((p) => p.step === step);
  assert.deepEqual(at(510), { step: 510, timestamp: 1_000_510, value: 100 });
  assert.equal(at(733)?.value, -50);
  assert.deepEqual(at(260), { step: 260, timestamp: 1_000_260, value: null, text: "NaN" });
  assert.deepEqual(at(905), { step: 905, timestamp: 1_000_905, value: null, text: "Infinity" });
});

test("a step range counts and downsamples only the points inside it", async () => {
  const h = await ok({ key: "loss", points: "10", minStep: "100", maxStep: "199" });
  assert.equal(h.total, 100);
  assert.equal(h.downsampled, true);
  // Two buckets of 50 steps.
  assert.deepEqual(
    h.points.map((p) => p.step),
    [100, 149, 150, 199],
  );
});

test("a time range counts and downsamples only the points logged in it, by time or by step", async () => {
  for (const x of ["time", "step"]) {
    const query = { key: "loss", points: "10", minTime: "1000100", maxTime: "1000199", x };
    const h = await ok(query);
    assert.equal(h.total, 100);
    assert.equal(h.downsampled, true);
    assert.deepEqual(
      h.points.map((p) => p.step),
      [100, 149, 150, 199],
    );
  }
  const both = await ok({ key: "loss", x: "time", minTime: "1000100", maxStep: "109" });
  assert.equal(both.total, 10);
});

test("a range with fewer points than asked comes back whole and in order", async () => {
  const h = await ok({ key: "loss", minStep: "250", maxStep: "265" });
  assert.equal(h.total, 16);
  assert.equal(h.downsampled, false);
  assert.deepEqual(
    h.points.map((p) => p.step),
    Array.from({ length: 16 }, (_, i) => 250 + i),
  );
  assert.equal(h.points[10]!.text, "NaN");
  assert.equal("text" in h.points[0]!, false);
});

test("an empty range of a known metric is 200 with no points", async () => {
  const h = await ok({ key: "loss", minStep: "5000" });
  assert.deepEqual(h, { runId, key: "loss", total: 0, downsampled: false, points: [] });
});

test("x=time sorts by timestamp; x=step by step", async () => {
  const byTime = await ok({ key: "lr", x: "time" });
  assert.deepEqual(
    byTime.points.map((p) => p.step),
    [5, 1, 3],
  );
  const byStep = await ok({ key: "lr" });
  assert.deepEqual(
    byStep.points.map((p) => p.step),
    [1, 3, 5],
  );
});

test("an unknown run or metric is 404 LATHE_NOT_FOUND", async () => {
  const noRun = await history({ key: "loss" }, "f".repeat(32));
  assert.equal(noRun.status, 404);
  assert.equal(noRun.json.code, "LATHE_NOT_FOUND");
  const noKey = await history({ key: "accuracy" });
  assert.equal(noKey.status, 404);
  assert.equal(noKey.json.code, "LATHE_NOT_FOUND");
  assert.match(noKey.json.message, /accuracy/);
});

test("a bad query parameter is 400 LATHE_BAD_INPUT naming it", async () => {
  const cases: [Record<string, string>, string][] = [
    [{}, "key"],
    [{ key: "loss", points: "9" }, "points"],
    [{ key: "loss", points: "100001" }, "points"],
    [{ key: "loss", points: "many" }, "points"],
    [{ key: "loss", minStep: "1.5" }, "minStep"],
    [{ key: "loss", maxStep: "x" }, "maxStep"],
    [{ key: "loss", minStep: "10", maxStep: "5" }, "minStep"],
    [{ key: "loss", minTime: "1.5" }, "minTime"],
    [{ key: "loss", maxTime: "soon" }, "maxTime"],
    [{ key: "loss", minTime: "2000", maxTime: "1000" }, "minTime"],
    [{ key: "loss", x: "epoch" }, "x"],
    [{ key: "loss", max: "5" }, "max"],
  ];
  for (const [query, parameter] of cases) {
    const r = await history(query);
    assert.equal(r.status, 400, JSON.stringify(query));
    assert.equal(r.json.code, "LATHE_BAD_INPUT");
    assert.equal(r.json.data.parameter, parameter);
    assert.match(r.json.message, new RegExp(`'${parameter}'`));
  }
});
