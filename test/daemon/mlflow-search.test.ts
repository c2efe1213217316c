/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   Responses are checked field by field against MLflow's shapes; typing them first would restate the shapes under test. */
/** runs/search over real HTTP: MLflow filter expressions, order_by, paging and view types. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
let exp: string;
let other: string;
const ids: Record<string, string> = {};

// Five runs with known params, metrics, tags and statuses, started one second apart.
const runs = [
  { name: "r1", lr: "0.01", acc: 0.7, loss: 0.9, team: "a", status: "FINISHED" },
  { name: "r2", lr: "0.01", acc: 0.85, loss: 0.5, team: "b", status: "FINISHED" },
  { name: "r3", lr: "0.1", acc: 0.9, loss: 0.4, team: "a", status: "FAILED" },
  { name: "r4", lr: "0.1", acc: "Infinity", loss: 0.1, team: "B", status: "RUNNING" },
  { name: "r5", lr: "0.001", acc: null, loss: 0.3, team: null, status: "FINISHED" },
];

before(async () => {
  d = await trackingDaemon("lathe-mlflow-search-");
  exp = (await d.post(`${M}/experiments/create`, { name: "search" })).json.experiment_id;
  other = (await d.post(`${M}/experiments/create`, { name: "other" })).json.experiment_id;
  for (const [i, r] of runs.entries()) {
    const created = await d.post(`${M}/runs/create`, {
      experiment_id: exp,
      run_name: r.name,
      start_time: 1_000_000 + i * 1000,
    });
    const id = created.json.run.info.run_id as string;
    ids[r.name] = id;
    const metrics = [{ key: "loss", value: r.loss, timestamp: 1, step: 1 }];
    if (r.acc !== null) {
      // An early, higher step-0 value that the latest (step 5) must override in comparisons.
      metrics.push({ key: "accuracy", value: 0.99, timestamp: 1, step: 0 });
      metrics.push({ key: "accuracy", value: r.acc, timestamp: 2, step: 5 } as never);
    }
    const tags = r.team === null ? [] : [{ key: "team", value: r.team }];
    await d.post(`${M}/runs/log-batch`, {
      run_id: id,
      metrics,
      params: [{ key: "lr", value: r.lr }],
      tags,
    });
    if (r.status !== "RUNNING") {
      await d.post(`${M}/runs/update`, { run_id: id, status: r.status, end_time: 2_000_000 });
    }
  }
  await d.post(`${M}/runs/create`, { experiment_id: other, run_name: "elsewhere" });
});

after(async () => {
  await d.close();
});

async function names(body: Record<string, unknown>): Promise<string[]> {
  const r = await d.post(`${M}/runs/search`, { experiment_ids: [exp], ...body });
  assert.equal(r.status, 200, r.text);
  return (r.json.runs ?? []).map((run: { info: { run_name: string } }) => run.info.run_name);
}

test("the default order is newest start first, and only the asked experiments are searched", async () => {
  assert.deepEqual(await names({}), ["r5", "r4", "r3", "r2", "r1"]);
  const both = await d.post(`${M}/runs/search`, { experiment_ids: [exp, other] });
  assert.equal(both.json.runs.length, 6);
});

test("metric and param conditions joined by and, on the latest metric value", async () => {
  assert.deepEqual(await names({ filter: "metrics.accuracy > 0.8 and params.lr = '0.01'" }), [
    "r2",
  ]);
  // Infinity compares above every number; a run without the metric never matches.
  assert.deepEqual(await names({ filter: "metrics.accuracy >= 0.9" }), ["r4", "r3"]);
  assert.deepEqual(await names({ filter: "metrics.accuracy < 0.8" }), ["r1"]);
  assert.deepEqual(await names({ filter: "metrics.accuracy != 0.7" }), ["r4", "r3", "r2"]);
  assert.deepEqual(await names({ filter: "params.lr != '0.1'" }), ["r5", "r2", "r1"]);
  assert.deepEqual(await names({ filter: "metric.loss <= 0.3 AND param.lr = '0.1'" }), ["r4"]);
});

test("attribute, tag, LIKE, ILIKE, IN and IS NULL conditions", async () => {
  assert.deepEqual(await names({ filter: "attributes.status = 'FINISHED'" }), ["r5", "r2", "r1"]);
  assert.deepEqual(await names({ filter: "status != 'FINISHED'" }), ["r4", "r3"]);
  assert.deepEqual(await names({ filter: "tags.team = 'a'" }), ["r3", "r1"]);
  assert.deepEqual(await names({ filter: "tags.team LIKE 'b'" }), ["r2"]);
  assert.deepEqual(await names({ filter: "tags.team ILIKE 'b'" }), ["r4", "r2"]);
  assert.deepEqual(await names({ filter: "tags.team IS NULL" }), ["r5"]);
  assert.deepEqual(await names({ filter: "params.lr LIKE '0.0%'" }), ["r5", "r2", "r1"]);
  assert.deepEqual(await names({ filter: `attributes.run_id IN ('${ids.r1}', '${ids.r3}')` }), [
    "r3",
    "r1",
  ]);
  assert.deepEqual(await names({ filter: "attributes.start_time > 1002000" }), ["r5", "r4"]);
  assert.deepEqual(await names({ filter: "attributes.run_name = 'r2'" }), ["r2"]);
  assert.deepEqual(await names({ filter: 'params."lr" = "0.001"' }), ["r5"]);
  assert.deepEqual(await names({ filter: "params.`lr` = '0.001'" }), ["r5"]);
});

test("order_by a metric, a param and an attribute; missing values sort last", async () => {
  assert.deepEqual(await names({ order_by: ["metrics.accuracy DESC"] }), [
    "r4",
    "r3",
    "r2",
    "r1",
    "r5",
  ]);
  assert.deepEqual(await names({ order_by: ["metrics.accuracy ASC"] }), [
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
  ]);
  assert.deepEqual(await names({ order_by: ["metrics.loss"] }), ["r4", "r5", "r3", "r2", "r1"]);
  assert.deepEqual(await names({ order_by: ["params.lr ASC", "attributes.start_time ASC"] }), [
    "r5",
    "r1",
    "r2",
    "r3",
    "r4",
  ]);
  assert.deepEqual(await names({ order_by: ["attributes.start_time ASC"] }), [
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
  ]);
});

test("max_results and page_token walk the results without gaps or repeats", async () => {
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await d.post(`${M}/runs/search`, {
      experiment_ids: [exp],
      max_results: 2,
      order_by: ["attributes.start_time ASC"],
      ...(token ? { page_token: token } : {}),
    });
    seen.push(...r.json.runs.map((run: { info: { run_name: string } }) => run.info.run_name));
    token = r.json.next_page_token;
    pages++;
  } while (token);
  assert.deepEqual(seen, ["r1", "r2", "r3", "r4", "r5"]);
  assert.equal(pages, 3);
});

test("search results are full runs: info and data with latest metrics, params and tags", async () => {
  const r = await d.post(`${M}/runs/search`, {
    experiment_ids: [exp],
    filter: "attributes.run_name = 'r3'",
  });
  const run = r.json.runs[0];
  assert.equal(run.info.status, "FAILED");
  assert.equal(run.info.end_time, 2_000_000);
  assert.deepEqual(
    run.data.metrics.find((m: { key: string }) => m.key === "accuracy"),
    { key: "accuracy", value: 0.9, timestamp: 2, step: 5 },
  );
  assert.deepEqual(run.data.params, [{ key: "lr", value: "0.1" }]);
  assert.equal(r.json.next_page_token, undefined);
});

test("bad filters, order_by and max_results are 400 INVALID_PARAMETER_VALUE", async () => {
  for (const body of [
    { filter: "metrics.accuracy > 'high'" },
    { filter: "params.lr > '0.1'" },
    { filter: "metrics.accuracy > 0.5 or params.lr = '0.1'" },
    { filter: "attributes.colour = 'red'" },
    { filter: "metrics.accuracy >" },
    { order_by: ["metrics.accuracy sideways"] },
    { max_results: 50001 },
    { page_token: "not-a-token" },
  ]) {
    const r = await d.post(`${M}/runs/search`, { experiment_ids: [exp], ...body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error_code, "INVALID_PARAMETER_VALUE");
  }
});
