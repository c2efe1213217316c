/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   MLflow replies are read field by field. */
/**
 * The Compare view's host half (extension/src/runs/compare/session.ts) against a real daemon over
 * HTTP: the ready handshake, the model and one curve per run and metric, a zoom's finer points,
 * live appends of only the new steps, and errors posted back instead of thrown.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { HostMessage, ViewDefaults } from "../../schemas/webview";
import { CompareSession } from "../../extension/src/runs/compare/session";
import { M, trackingDaemon, type TrackingDaemon } from "../daemon/tracking-helpers";

let d: TrackingDaemon;
let runA: string;
let runB: string;
const defaults: ViewDefaults = { x: "step", logScale: false, smoothing: 0.5, points: 100 };

async function log(runId: string, key: string, from: number, to: number, f: (s: number) => number) {
  const metrics = [];
  for (let step = from; step < to; step++) {
    metrics.push({ key, value: f(step), step, timestamp: 1_000_000 + step });
  }
  for (let i = 0; i < metrics.length; i += 1000) {
    const r = await d.post(`/api/v1/runs/${runId}/batch`, { metrics: metrics.slice(i, i + 1000) });
    assert.equal(r.status, 200, r.text);
  }
}

before(async () => {
  d = await trackingDaemon("lathe-compare-");
  runA = (await d.post(`${M}/runs/create`, { run_name: "a" })).json.run.info.run_id;
  runB = (await d.post(`${M}/runs/create`, { run_name: "b" })).json.run.info.run_id;
  await d.post(`/api/v1/runs/${runA}/batch`, { params: { lr: "0.1", seed: "1" } });
  await d.post(`/api/v1/runs/${runB}/batch`, { params: { lr: "0.01", seed: "1" } });
  await log(runA, "loss", 0, 5000, (s) => 1 / (s + 1));
  await log(runB, "loss", 0, 300, (s) => 2 / (s + 1));
  await log(runB, "accuracy", 0, 300, (s) => s / 300);
});

after(async () => {
  await d.close();
});

function session(runIds: string[]) {
  const posted: HostMessage[] = [];
  const s = new CompareSession(d.daemon.client, runIds, (m) => posted.push(m), defaults);
  return { s, posted };
}

const series = (posted: HostMessage[]) =>
  posted.filter((m): m is Extract<HostMessage, { type: "series" }> => m.type === "series");

test("nothing is posted before ready; ready posts the model, then every curve", async () => {
  const { s, posted } = session([runA, runB]);
  await s.runChanged(runA);
  assert.equal(posted.length, 0, "a live update before the handshake posts nothing");
  await s.handle({ type: "ready" });
  assert.equal(posted[0]!.type, "model");
  const model = posted[0]!.type === "model" ? posted[0]!.model : undefined;
  assert.deepEqual(
    model!.runs.map((r) => [r.name, r.index]),
    [
      ["a", 0],
      ["b", 1],
    ],
  );
  assert.deepEqual(model!.metricKeys, ["accuracy", "loss"]);
  const lr = model!.rows.find((r) => r.key === "lr")!;
  assert.deepEqual([lr.values, lr.differs], [["0.1", "0.01"], true]);
  assert.equal(model!.rows.find((r) => r.key === "seed")!.differs, false);
  const got = series(posted)
    .map((m) => `${m.runId === runA ? "a" : "b"}:${m.key}`)
    .sort();
  assert.deepEqual(got, ["a:loss", "b:accuracy", "b:loss"]);
  const aLoss = series(posted).find((m) => m.runId === runA)!;
  assert.equal(aLoss.total, 5000);
  assert.equal(aLoss.downsampled, true);
  assert.ok(aLoss.points.steps.length <= 100, `${aLoss.points.steps.length} points`);
  assert.equal(aLoss.points.steps[0], 0);
  assert.equal(aLoss.points.steps.at(-1), 4999);
});

test("a zoom fetches finer points of the step range for every run that has the metric", async () => {
  const { s, posted } = session([runA, runB]);
  await s.handle({ type: "ready" });
  posted.length = 0;
  await s.handle({
    type: "fetch",
    requestId: 7,
    key: "loss",
    range: { minStep: 100, maxStep: 149 },
    points: 100,
  });
  const answers = series(posted);
  assert.equal(answers.length, 2);
  for (const m of answers) {
    assert.equal(m.requestId, 7);
    assert.equal(m.mode, "replace");
    assert.deepEqual(m.range, { minStep: 100, maxStep: 149 });
    assert.equal(m.downsampled, false, "50 steps fit in 100 points: every point comes back");
    assert.deepEqual(
      m.points.steps,
      Array.from({ length: 50 }, (_, i) => 100 + i),
    );
  }
});

test("a running run grows: only the steps after the last one sent are fetched", async () => {
  const { s, posted } = session([runB]);
  await s.handle({ type: "ready" });
  posted.length = 0;
  await log(runB, "loss", 300, 310, (s) => 2 / (s + 1));
  await s.runChanged(runB);
  const grown = series(posted);
  assert.equal(posted[0]!.type, "model", "statuses and keys are sent again first");
  assert.equal(grown.length, 1, "accuracy did not grow, so only loss is fetched");
  assert.equal(grown[0]!.mode, "append");
  assert.deepEqual(grown[0]!.range, { minStep: 300, maxStep: null });
  assert.deepEqual(
    grown[0]!.points.steps,
    Array.from({ length: 10 }, (_, i) => 300 + i),
  );

  // A metric that appears while the run goes on arrives whole.
  posted.length = 0;
  await log(runB, "lr", 0, 3, () => 0.5);
  await s.runChanged(runB);
  const fresh = series(posted);
  assert.deepEqual(
    fresh.map((m) => [m.key, m.mode, m.points.steps.length]),
    [["lr", "replace", 3]],
  );
  // Another run's event is none of this panel's business.
  posted.length = 0;
  await s.runChanged(runA);
  assert.equal(posted.length, 0);
});

test("a point logged late, at or below the last step sent, brings the whole curve again", async () => {
  const made = await d.post(`${M}/runs/create`, { run_name: "late" });
  const run = made.json.run.info.run_id as string;
  await log(run, "loss", 0, 50, (s) => 1 / (s + 1));
  const { s, posted } = session([run]);
  await s.handle({ type: "ready" });
  posted.length = 0;
  // Nothing new: nothing fetched.
  await s.runChanged(run);
  assert.equal(series(posted).length, 0);

  // A second value at step 20 and one at step 49, the last step sent: neither is after it.
  const late = [
    { key: "loss", value: 9, step: 20, timestamp: 5_000_000 },
    { key: "loss", value: 0.5, step: 49, timestamp: 5_000_001 },
  ];
  assert.equal((await d.post(`/api/v1/runs/${run}/batch`, { metrics: late })).status, 200);
  await s.runChanged(run);
  const whole = series(posted);
  assert.deepEqual(
    whole.map((m) => [m.mode, m.range, m.total]),
    [["replace", null, 52]],
  );
  assert.ok(whole[0]!.points.values.includes(9), "the late value at step 20 is drawn");

  // New steps after the last and a late one in the same burst: the append, then the whole curve.
  posted.length = 0;
  const mixed = [
    { key: "loss", value: 0.1, step: 50, timestamp: 5_000_002 },
    { key: "loss", value: 7, step: 3, timestamp: 5_000_003 },
  ];
  assert.equal((await d.post(`/api/v1/runs/${run}/batch`, { metrics: mixed })).status, 200);
  await s.runChanged(run);
  assert.deepEqual(
    series(posted).map((m) => [m.mode, m.range, m.total]),
    [
      ["append", { minStep: 50, maxStep: null }, 1],
      ["replace", null, 54],
    ],
  );
  // In order again: an append only.
  posted.length = 0;
  await log(run, "loss", 51, 55, () => 0.05);
  await s.runChanged(run);
  assert.deepEqual(
    series(posted).map((m) => [m.mode, m.total]),
    [["append", 4]],
  );
});

test("the table's metric rows carry last, min, max and points, NaN and ±Infinity spelled out", async () => {
  const run = (await d.post(`${M}/runs/create`, { run_name: "diverged" })).json.run.info
    .run_id as string;
  const values = [0.5, 0.25, "NaN", "Infinity", "NaN", 2];
  const metrics = values.map((value, step) => ({ key: "loss", value, step, timestamp: 1 + step }));
  metrics.push(
    { key: "grad", value: "NaN", step: 0, timestamp: 1 },
    { key: "grad", value: "-Infinity", step: 1, timestamp: 2 },
  );
  assert.equal((await d.post(`/api/v1/runs/${run}/batch`, { metrics })).status, 200);
  const other = (await d.post(`${M}/runs/create`, { run_name: "steady" })).json.run.info
    .run_id as string;
  await log(other, "loss", 0, 3, (step) => 1 - step / 4);
  const { s, posted } = session([other, run]);
  await s.handle({ type: "ready" });
  const model = posted[0]!.type === "model" ? posted[0]!.model : undefined;
  const row = (key: string) => model!.rows.find((r) => r.group === "metrics" && r.key === key)!;
  assert.deepEqual(row("loss").values, ["0.5", "2"]);
  const finite = { nan: 0, posInf: 0, negInf: 0 };
  assert.deepEqual(row("loss").summaries, [
    { last: "0.5", min: "0.5", max: "1", count: 3, ...finite },
    { last: "2", min: "0.25", max: "Infinity", count: 6, nan: 2, posInf: 1, negInf: 0 },
  ]);
  assert.deepEqual(row("grad").summaries, [
    null,
    {
      last: "-Infinity",
      min: "-Infinity",
      max: "-Infinity",
      count: 2,
      ...finite,
      nan: 1,
      negInf: 1,
    },
  ]);
  // The curve's NaN and +Infinity come as null values with their word, for the chart's marks.
  const loss = series(posted).find((m) => m.runId === run && m.key === "loss")!;
  assert.deepEqual(loss.points.values, [0.5, 0.25, null, null, null, 2]);
  assert.deepEqual(loss.points.texts, [null, null, "NaN", "Infinity", "NaN", null]);
});

test("failures come back as error messages naming the request", async () => {
  const { s, posted } = session([runA, "no-such-run"]);
  await s.handle({ type: "ready" });
  assert.equal(posted.length, 1);
  assert.equal(posted[0]!.type, "error");
  assert.match(posted[0]!.type === "error" ? posted[0]!.message : "", /No run 'no-such-run'/);

  const ok = session([runA]);
  await ok.s.handle({ type: "ready" });
  ok.posted.length = 0;
  await ok.s.handle({
    type: "fetch",
    requestId: 3,
    key: "loss",
    range: { minStep: 10, maxStep: 5 },
    points: 100,
  });
  assert.deepEqual(
    ok.posted.map((m) => m.type === "error" && m.requestId),
    [3],
  );
  assert.match(ok.posted[0]!.type === "error" ? ok.posted[0]!.message : "", /minStep/);
});
