/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument --
   Responses are checked field by field against MLflow's shapes; typing them first would restate the shapes under test. */
/** The native batch API: POST /api/v1/runs/:id/batch, its schema, limits and event. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import type { BatchResult, DaemonEvent, MetricHistory, RunDetail } from "../../schemas/api";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
let runId: string;

before(async () => {
  d = await trackingDaemon("lathe-tracking-batch-");
  runId = (await d.post(`${M}/runs/create`, { run_name: "native" })).json.run.info.run_id;
});

after(async () => {
  await d.close();
});

const batch = (body: unknown, id = runId) => d.post(`/api/v1/runs/${id}/batch`, body);

test("a batch stores metrics, params and tags, and the run shows them", async () => {
  const r = await batch({
    metrics: [
      { key: "loss", value: 0.5, step: 0, timestamp: 1000 },
      { key: "loss", value: 0.25, step: 1 },
      { key: "loss", value: "NaN", step: 2 },
      { key: "grad", value: null, step: 0 },
    ],
    params: { lr: "0.01", layers: "3" },
    tags: { note: "first" },
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json as BatchResult, { runId, metrics: 4, params: 2, tags: 1 });

  const run = (await d.get(`/api/v1/runs/${runId}`)).json as RunDetail;
  assert.deepEqual(run.params, { layers: "3", lr: "0.01" });
  assert.equal(run.metrics.loss!.step, 2);
  assert.equal(run.metrics.loss!.text, "NaN");
  assert.equal(run.metrics.grad!.text, "NaN");
});

test("params are write-once: a new value is 409 LATHE_CONFLICT and the batch is not stored", async () => {
  const r = await batch({ metrics: [{ key: "later", value: 1 }], params: { lr: "0.1" } });
  assert.equal(r.status, 409);
  assert.equal(r.json.code, "LATHE_CONFLICT");
  const run = (await d.get(`/api/v1/runs/${runId}`)).json as RunDetail;
  assert.equal(run.metrics.later, undefined);
  assert.equal((await batch({ params: { lr: "0.01" } })).status, 200);
});

test("over the limits or off the schema is 400 LATHE_BAD_INPUT naming the field", async () => {
  const many = Array.from({ length: 1001 }, (_, i) => ({ key: "m", value: i }));
  const cases: [unknown, RegExp][] = [
    [{ metrics: many }, /metrics/],
    [
      { params: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, "v"])) },
      /params/,
    ],
    [{ metrics: [{ key: "m", value: "high" }] }, /metrics/],
    [{ metrics: [{ key: "m", value: 1, step: 1.5 }] }, /step/],
    [{ extra: 1 }, /extra/],
    [{ metrics: [{ key: "a".repeat(251), value: 1 }] }, /length limit of 250/],
    [
      {
        metrics: many.slice(0, 950),
        params: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, "v"])),
      },
      /at most 1000/,
    ],
  ];
  for (const [body, message] of cases) {
    const r = await batch(body);
    assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(r.json.code, "LATHE_BAD_INPUT");
    assert.match(r.json.message, message);
  }
});

test("an unknown run is 404 LATHE_NOT_FOUND", async () => {
  const r = await batch({ metrics: [{ key: "a", value: 1 }] }, "0".repeat(32));
  assert.equal(r.status, 404);
  assert.equal(r.json.code, "LATHE_NOT_FOUND");
});

test("a batch emits runs/changed on the event stream", async () => {
  const events: DaemonEvent[] = [];
  const req = request({
    host: "127.0.0.1",
    port: d.port,
    path: "/api/v1/events",
    headers: { Authorization: `Bearer ${d.token}` },
  });
  const connected = new Promise<void>((resolve) => {
    req.on("response", (res) => {
      res.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n")) {
          if (line.startsWith("data: ")) {
            events.push(JSON.parse(line.slice(6)) as DaemonEvent);
          }
        }
        resolve();
      });
    });
  });
  req.end();
  await connected;
  await batch({ metrics: [{ key: "evt", value: 1 }] });
  for (let i = 0; i < 50 && events.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  req.destroy();
  assert.deepEqual(events[0], { type: "runs/changed", runId });
});

test("a batch over the limits stores nothing, not even its valid points", async () => {
  const r = await batch({
    metrics: Array.from({ length: 1001 }, (_, i) => ({ key: "overflow", value: i, step: i })),
  });
  assert.equal(r.status, 400);
  const bad = await batch({
    metrics: [{ key: "partial", value: 1 }],
    tags: { ok: "yes", "bad\u0000key": "x" },
  });
  assert.equal(bad.status, 400);
  const run = (await d.get(`/api/v1/runs/${runId}`)).json as RunDetail;
  assert.equal(run.metrics.overflow, undefined);
  assert.equal(run.metrics.partial, undefined);
  assert.equal(run.tags.ok, undefined);
});

test("unicode keys, a 250-character key, and negative and out-of-order steps are kept", async () => {
  const long = "k".repeat(250);
  const r = await batch({
    metrics: [
      { key: "точность", value: 0.5, step: 5 },
      { key: "точность", value: 0.25, step: -3 },
      { key: "точность", value: "Infinity", step: 1 },
      { key: long, value: 1 },
    ],
    params: { 学习率: "0.1" },
  });
  assert.equal(r.status, 200, r.text);
  const history = await d.get(`/api/v1/runs/${runId}/metrics/history`, { key: "точность" });
  assert.deepEqual(
    (history.json as MetricHistory).points.map((p) => [p.step, p.text ?? p.value]),
    [
      [-3, 0.25],
      [1, "Infinity"],
      [5, 0.5],
    ],
  );
  const run = (await d.get(`/api/v1/runs/${runId}`)).json as RunDetail;
  assert.equal(run.metrics["точность"]?.value, 0.5, "the latest is the highest step");
  assert.equal(run.metrics[long]?.value, 1);
  assert.equal(run.params["学习率"], "0.1");
});
