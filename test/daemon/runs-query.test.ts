/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   Error bodies are read field by field. */
/** Native run queries over HTTP: compare, search, tags, delete/restore, their events and 4xx. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import type { DaemonEvent, RunComparison, RunSummary, SearchRunsResult } from "../../schemas/api";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
const ids: string[] = [];

/** Three runs: lr 0.01/0.1/0.01, layers 3 in two of them, acc and loss with different histories. */
before(async () => {
  d = await trackingDaemon("lathe-runs-query-");
  const specs = [
    { name: "a", params: { lr: "0.01", layers: "3" }, acc: [0.5, 0.9, 0.8], tags: { team: "x" } },
    { name: "b", params: { lr: "0.1", layers: "3" }, acc: [0.6, 0.7], tags: { team: "y" } },
    { name: "c", params: { lr: "0.01" }, acc: [0.95], tags: {} },
  ];
  for (const [i, s] of specs.entries()) {
    const created = await d.post(`${M}/runs/create`, { run_name: s.name, start_time: 1000 + i });
    const id = created.json.run.info.run_id as string;
    ids.push(id);
    const metrics = s.acc.map((value, step) => ({ key: "acc", value, step, timestamp: 1 + step }));
    metrics.push({ key: "loss", value: 0.25, step: 0, timestamp: 1 });
    const body = { metrics, params: s.params, tags: s.tags };
    assert.equal((await d.post(`/api/v1/runs/${id}/batch`, body)).status, 200);
  }
});

after(async () => {
  await d.close();
});

const search = (body: unknown) => d.post("/api/v1/runs/search", body);

test("compare lists every param and metric with values in the order asked and what differs", async () => {
  const [a, b, c] = ids as [string, string, string];
  const r = await d.post("/api/v1/runs/compare", { runIds: [c, a, b] });
  assert.equal(r.status, 200, r.text);
  const cmp = r.json as RunComparison;
  assert.deepEqual(
    cmp.runs.map((run) => run.name),
    ["c", "a", "b"],
  );
  assert.deepEqual(cmp.params, [
    { key: "layers", values: [null, "3", "3"], differs: true },
    { key: "lr", values: ["0.01", "0.01", "0.1"], differs: true },
  ]);
  const acc = cmp.metrics.find((m) => m.key === "acc")!;
  assert.equal(acc.differs, true);
  const finite = { nan: 0, posInf: 0, negInf: 0 };
  assert.deepEqual(acc.values, [
    { last: 0.95, min: 0.95, max: 0.95, step: 0, count: 1, ...finite },
    { last: 0.8, min: 0.5, max: 0.9, step: 2, count: 3, ...finite },
    { last: 0.7, min: 0.6, max: 0.7, step: 1, count: 2, ...finite },
  ]);
  assert.deepEqual(cmp.metrics.find((m) => m.key === "loss")!.differs, false);
});

test("compare counts NaN and ±Infinity points apart; min and max take the infinities in", async () => {
  const id = (await d.post(`${M}/runs/create`, { run_name: "diverged" })).json.run.info
    .run_id as string;
  const values = [0.5, "NaN", "Infinity", 0.25, "-Infinity", "NaN", "NaN"];
  const metrics = values.map((value, step) => ({ key: "loss", value, step, timestamp: 1 + step }));
  metrics.push({ key: "gone", value: "NaN", step: 0, timestamp: 1 });
  assert.equal((await d.post(`/api/v1/runs/${id}/batch`, { metrics })).status, 200);
  const cmp = (await d.post("/api/v1/runs/compare", { runIds: [id] })).json as RunComparison;
  const summary = (key: string) => cmp.metrics.find((m) => m.key === key)!.values[0];
  assert.deepEqual(summary("loss"), {
    last: null,
    text: "NaN",
    min: null,
    minText: "-Infinity",
    max: null,
    maxText: "Infinity",
    step: 6,
    count: 7,
    nan: 3,
    posInf: 1,
    negInf: 1,
  });
  assert.deepEqual(summary("gone"), {
    last: null,
    text: "NaN",
    min: null,
    max: null,
    step: 0,
    count: 1,
    nan: 1,
    posInf: 0,
    negInf: 0,
  });
  await d.post(`${M}/runs/delete`, { run_id: id }); // the other tests count three runs
});

test("compare of one run differs nowhere; the same run twice is 400", async () => {
  const cmp = (await d.post("/api/v1/runs/compare", { runIds: [ids[0], ids[0]] })).json;
  assert.equal(cmp.code, "LATHE_BAD_INPUT"); // The same run twice is refused (uniqueItems).
  const one = (await d.post("/api/v1/runs/compare", { runIds: [ids[0]] })).json as RunComparison;
  assert.ok(one.params.every((p) => !p.differs));
  assert.ok(one.metrics.every((m) => !m.differs));
});

test("compare: an unknown run is 404 naming it; no ids or over 50 is 400", async () => {
  const unknown = "e".repeat(32);
  const r = await d.post("/api/v1/runs/compare", { runIds: [ids[0], unknown] });
  assert.equal(r.status, 404);
  assert.equal(r.json.code, "LATHE_NOT_FOUND");
  assert.match(r.json.message, new RegExp(unknown));

  for (const body of [
    {},
    { runIds: [] },
    { runIds: Array.from({ length: 51 }, (_, i) => `${i}`) },
  ]) {
    const bad = await d.post("/api/v1/runs/compare", body);
    assert.equal(bad.status, 400, JSON.stringify(body).slice(0, 60));
    assert.equal(bad.json.code, "LATHE_BAD_INPUT");
    assert.match(bad.json.message, /runIds/);
  }
});

test("search filters with MLflow syntax and orders by a metric", async () => {
  const r = await search({
    filter: "params.lr = '0.01' and metrics.acc > 0.5",
    orderBy: ["metrics.acc DESC"],
  });
  assert.equal(r.status, 200, r.text);
  const result = r.json as SearchRunsResult;
  assert.deepEqual(
    result.runs.map((run) => run.name),
    ["c", "a"],
  );
  assert.equal(result.nextPageToken, null);
  assert.deepEqual(result.runs[1]!.tags, { "mlflow.runName": "a", team: "x" });

  const byTag = (await search({ filter: "tags.team = 'y'" })).json as SearchRunsResult;
  assert.deepEqual(
    byTag.runs.map((run) => run.name),
    ["b"],
  );
});

test("search pages with maxResults and the next page token", async () => {
  const first = (await search({ maxResults: 2 })).json as SearchRunsResult;
  assert.deepEqual(
    first.runs.map((run) => run.name),
    ["c", "b"],
  );
  assert.ok(first.nextPageToken);
  const second = (await search({ maxResults: 2, pageToken: first.nextPageToken })).json;
  assert.deepEqual(
    (second as SearchRunsResult).runs.map((run) => run.name),
    ["a"],
  );
  assert.equal((second as SearchRunsResult).nextPageToken, null);
});

test("search: a bad filter, order or token is 400 LATHE_BAD_INPUT quoting it", async () => {
  const cases: [unknown, string, string][] = [
    [{ filter: "metrics.acc >> 1" }, "filter", "metrics.acc >> 1"],
    [{ filter: "metrics.acc = 'high'" }, "filter", "metrics.acc = 'high'"],
    [{ filter: "attributes.colour = 'red'" }, "filter", "attributes.colour = 'red'"],
    [{ orderBy: ["metrics.acc SIDEWAYS"] }, "orderBy", "metrics.acc SIDEWAYS"],
    [{ orderBy: ["attributes.colour"] }, "orderBy", "attributes.colour"],
    [{ pageToken: "not-a-token" }, "pageToken", "not-a-token"],
  ];
  for (const [body, field, value] of cases) {
    const r = await search(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.code, "LATHE_BAD_INPUT");
    assert.equal(r.json.data.field, field);
    assert.ok(r.json.message.includes(`"${value}"`), r.json.message);
  }
  for (const body of [
    { maxResults: 50001 },
    { maxResults: 0 },
    { filters: "x" },
    { orderBy: "x" },
  ]) {
    const r = await search(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.code, "LATHE_BAD_INPUT");
  }
});

test("tags are set, replaced and removed, and each change is on the event stream", async () => {
  const id = ids[2]!;
  const events = await listen();
  const set = await d.call("PUT", `/api/v1/runs/${id}/tags/stage`, { value: "candidate" });
  assert.equal(set.status, 200, set.text);
  assert.equal((set.json as RunSummary).tags.stage, "candidate");
  const again = await d.call("PUT", `/api/v1/runs/${id}/tags/stage`, { value: "best" });
  assert.equal((again.json as RunSummary).tags.stage, "best");
  const removed = await d.call("DELETE", `/api/v1/runs/${id}/tags/stage`);
  assert.equal(removed.status, 200, removed.text);
  assert.equal((removed.json as RunSummary).tags.stage, undefined);
  assert.deepEqual(await events.take(3), Array(3).fill({ type: "runs/changed", runId: id }));
});

test("tags: 404 for an unknown run or tag, 400 for a bad key or body", async () => {
  const id = ids[2]!;
  const noRun = await d.call("PUT", `/api/v1/runs/${"d".repeat(32)}/tags/t`, { value: "v" });
  assert.equal(noRun.status, 404);
  const noTag = await d.call("DELETE", `/api/v1/runs/${id}/tags/never`);
  assert.equal(noTag.status, 404);
  assert.match(noTag.json.message, /never/);
  const badKey = await d.call("PUT", `/api/v1/runs/${id}/tags/${"k".repeat(251)}`, { value: "v" });
  assert.equal(badKey.status, 400);
  assert.equal(badKey.json.data.field, "key");
  for (const body of [{}, { value: 3 }, { value: "v", extra: 1 }]) {
    const r = await d.call("PUT", `/api/v1/runs/${id}/tags/t`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.code, "LATHE_BAD_INPUT");
  }
});

test("a deleted run is hidden from lists and searches unless asked for, and comes back", async () => {
  const id = ids[1]!;
  const events = await listen();
  const del = await d.call("DELETE", `/api/v1/runs/${id}`);
  assert.equal(del.status, 200, del.text);
  assert.equal((del.json as RunSummary).lifecycleStage, "deleted");

  const listed = (await d.get("/api/v1/runs")).json as RunSummary[];
  assert.equal(
    listed.some((r) => r.id === id),
    false,
  );
  const all = (await d.get("/api/v1/runs", { deleted: "include" })).json as RunSummary[];
  assert.equal(
    all.some((r) => r.id === id),
    true,
  );
  const found = (await search({})).json as SearchRunsResult;
  assert.equal(
    found.runs.some((r) => r.id === id),
    false,
  );
  const withDeleted = (await search({ includeDeleted: true })).json as SearchRunsResult;
  assert.equal(withDeleted.runs.find((r) => r.id === id)?.lifecycleStage, "deleted");

  const tag = await d.call("PUT", `/api/v1/runs/${id}/tags/t`, { value: "v" });
  assert.equal(tag.status, 409);
  assert.equal(tag.json.code, "LATHE_CONFLICT");

  const restored = await d.post(`/api/v1/runs/${id}/restore`, {});
  assert.equal(restored.status, 200, restored.text);
  assert.equal((restored.json as RunSummary).lifecycleStage, "active");
  assert.equal(((await search({})).json as SearchRunsResult).runs.length, 3);
  assert.deepEqual(await events.take(2), Array(2).fill({ type: "runs/changed", runId: id }));
});

test("delete and restore of an unknown run are 404", async () => {
  const unknown = "c".repeat(32);
  assert.equal((await d.call("DELETE", `/api/v1/runs/${unknown}`)).status, 404);
  const r = await d.post(`/api/v1/runs/${unknown}/restore`, {});
  assert.equal(r.status, 404);
  assert.equal(r.json.code, "LATHE_NOT_FOUND");
});

/** Subscribes to the event stream; `take(n)` waits (up to 2 s) for n events and closes it. */
async function listen(): Promise<{ take(n: number): Promise<DaemonEvent[]> }> {
  const events: DaemonEvent[] = [];
  const req = request({
    host: "127.0.0.1",
    port: d.port,
    path: "/api/v1/events",
    headers: { Authorization: `Bearer ${d.token}` },
  });
  await new Promise<void>((resolve) => {
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
    req.end();
  });
  return {
    async take(n) {
      for (let i = 0; i < 100 && events.length < n; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      req.destroy();
      return events;
    },
  };
}

test("compare's min and max include ±Infinity, never NaN, and count the NaN points", async () => {
  // Last, and in an experiment of its own: the searches above see only the three runs.
  const experiment = await d.post(`${M}/experiments/create`, { name: "wild" });
  const created = await d.post(`${M}/runs/create`, {
    run_name: "wild",
    experiment_id: experiment.json.experiment_id,
  });
  const id = created.json.run.info.run_id as string;
  const series: Record<string, unknown[]> = {
    loss: ["Infinity", "-Infinity", 0.5, "NaN"],
    up: [2, "Infinity", "NaN"],
    down: ["-Infinity", 3, "-Infinity"],
    nan: ["NaN", "NaN"],
  };
  const metrics = Object.entries(series).flatMap(([key, values]) =>
    values.map((value, step) => ({ key, value, step, timestamp: 1 })),
  );
  assert.equal((await d.post(`/api/v1/runs/${id}/batch`, { metrics })).status, 200);

  const cmp = (await d.post("/api/v1/runs/compare", { runIds: [id] })).json as RunComparison;
  const of = (key: string) => cmp.metrics.find((m) => m.key === key)!.values[0];
  assert.deepEqual(of("loss"), {
    last: null,
    text: "NaN",
    min: null,
    minText: "-Infinity",
    max: null,
    maxText: "Infinity",
    step: 3,
    count: 4,
    nan: 1,
    posInf: 1,
    negInf: 1,
  });
  assert.deepEqual(of("up"), {
    last: null,
    text: "NaN",
    min: 2,
    max: null,
    maxText: "Infinity",
    step: 2,
    count: 3,
    nan: 1,
    posInf: 1,
    negInf: 0,
  });
  assert.deepEqual(of("down"), {
    last: null,
    text: "-Infinity",
    min: null,
    minText: "-Infinity",
    max: 3,
    step: 2,
    count: 3,
    nan: 0,
    posInf: 0,
    negInf: 2,
  });
  assert.deepEqual(of("nan"), {
    last: null,
    text: "NaN",
    min: null,
    max: null,
    step: 1,
    count: 2,
    nan: 2,
    posInf: 0,
    negInf: 0,
  });
});
