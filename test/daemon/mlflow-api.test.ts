/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   Responses are checked field by field against MLflow's shapes; typing them first would restate the shapes under test. */
/**
 * The MLflow tracking REST subset over real HTTP, checked field by field against MLflow's
 * documented shapes (mlflow/protos/service.proto; mlflow/utils/validation.py for limits and
 * messages; mlflow/exceptions.py for the status of each error code).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
let experimentId: string;

before(async () => {
  d = await trackingDaemon("lathe-mlflow-api-");
  const created = await d.post(`${M}/experiments/create`, { name: "api-tests" });
  experimentId = created.json.experiment_id;
});

after(async () => {
  await d.close();
});

async function newRun(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await d.post(`${M}/runs/create`, { experiment_id: experimentId, ...extra });
  assert.equal(r.status, 200, r.text);
  return r.json.run.info.run_id;
}

function assertMlflowError(r: { status: number; json: unknown }, status: number, code: string) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const body = r.json as { error_code: string; message: string };
  assert.deepEqual(Object.keys(body).sort(), ["error_code", "message"]);
  assert.equal(body.error_code, code);
  assert.ok(body.message.length > 0);
}

test("experiments/create returns the new id; a second create of the name is 400 RESOURCE_ALREADY_EXISTS", async () => {
  const r = await d.post(`${M}/experiments/create`, {
    name: "twice",
    tags: [{ key: "team", value: "ml" }],
  });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json), ["experiment_id"]);
  assert.match(r.json.experiment_id, /^[0-9]+$/);

  const again = await d.post(`${M}/experiments/create`, { name: "twice" });
  assertMlflowError(again, 400, "RESOURCE_ALREADY_EXISTS");
});

test("experiments/create without a name is 400 INVALID_PARAMETER_VALUE", async () => {
  assertMlflowError(await d.post(`${M}/experiments/create`, {}), 400, "INVALID_PARAMETER_VALUE");
});

test("experiments/get and get-by-name return an Experiment with MLflow's fields", async () => {
  const byId = await d.get(`${M}/experiments/get`, { experiment_id: experimentId });
  assert.equal(byId.status, 200);
  const e = byId.json.experiment;
  assert.deepEqual(Object.keys(e).sort(), [
    "artifact_location",
    "creation_time",
    "experiment_id",
    "last_update_time",
    "lifecycle_stage",
    "name",
    "tags",
  ]);
  assert.equal(e.experiment_id, experimentId);
  assert.equal(e.name, "api-tests");
  assert.equal(e.lifecycle_stage, "active");
  assert.equal(e.artifact_location, `mlflow-artifacts:/${experimentId}`);
  assert.equal(typeof e.creation_time, "number");

  const byName = await d.get(`${M}/experiments/get-by-name`, { experiment_name: "api-tests" });
  assert.deepEqual(byName.json.experiment, e);

  const tagged = await d.get(`${M}/experiments/get-by-name`, { experiment_name: "twice" });
  assert.deepEqual(tagged.json.experiment.tags, [{ key: "team", value: "ml" }]);
});

test("an unknown experiment is 404 RESOURCE_DOES_NOT_EXIST by id and by name", async () => {
  assertMlflowError(
    await d.get(`${M}/experiments/get`, { experiment_id: "9999" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  assertMlflowError(
    await d.get(`${M}/experiments/get-by-name`, { experiment_name: "nope" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
});

test("the Default experiment 0 exists for clients that name none", async () => {
  const r = await d.get(`${M}/experiments/get`, { experiment_id: "0" });
  assert.equal(r.status, 200);
  assert.equal(r.json.experiment.name, "Default");
  const run = await d.post(`${M}/runs/create`, {});
  assert.equal(run.json.run.info.experiment_id, "0");
});

test("experiments/search works as POST and GET, with a name filter and order_by", async () => {
  const post = await d.post(`${M}/experiments/search`, {
    filter: "name LIKE 'api%'",
    max_results: 10,
  });
  assert.equal(post.status, 200);
  assert.deepEqual(
    post.json.experiments.map((e: { name: string }) => e.name),
    ["api-tests"],
  );
  const get = await d.get(`${M}/experiments/search`, {
    max_results: "100",
    order_by: ["name ASC"],
  });
  const names = get.json.experiments.map((e: { name: string }) => e.name);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes("twice"));
});

test("runs/create returns a Run: info with MLflow's fields, tags with mlflow.runName", async () => {
  const r = await d.post(`${M}/runs/create`, {
    experiment_id: experimentId,
    run_name: "first",
    start_time: 1700000000000,
    user_id: "ada",
    tags: [{ key: "source", value: "test" }],
  });
  assert.equal(r.status, 200);
  const { info, data } = r.json.run;
  assert.deepEqual(Object.keys(info).sort(), [
    "artifact_uri",
    "experiment_id",
    "lifecycle_stage",
    "run_id",
    "run_name",
    "run_uuid",
    "start_time",
    "status",
    "user_id",
  ]);
  assert.match(info.run_id, /^[0-9a-f]{32}$/);
  assert.equal(info.run_uuid, info.run_id);
  assert.equal(info.run_name, "first");
  assert.equal(info.experiment_id, experimentId);
  assert.equal(info.user_id, "ada");
  assert.equal(info.status, "RUNNING");
  assert.equal(info.start_time, 1700000000000);
  assert.equal(info.lifecycle_stage, "active");
  assert.equal(info.artifact_uri, `mlflow-artifacts:/${experimentId}/${info.run_id}/artifacts`);
  assert.deepEqual(data.tags, [
    { key: "mlflow.runName", value: "first" },
    { key: "source", value: "test" },
  ]);
  assert.deepEqual(data.metrics, []);
  assert.deepEqual(data.params, []);
});

test("runs/create in an unknown experiment is 404 RESOURCE_DOES_NOT_EXIST", async () => {
  assertMlflowError(
    await d.post(`${M}/runs/create`, { experiment_id: "4242" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
});

test("an unknown run is 404 RESOURCE_DOES_NOT_EXIST for get, log-metric, log-batch and update", async () => {
  const id = "0".repeat(32);
  assertMlflowError(await d.get(`${M}/runs/get`, { run_id: id }), 404, "RESOURCE_DOES_NOT_EXIST");
  assertMlflowError(
    await d.post(`${M}/runs/log-metric`, { run_id: id, key: "a", value: 1, timestamp: 1 }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  assertMlflowError(
    await d.post(`${M}/runs/log-batch`, { run_id: id, metrics: [] }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  assertMlflowError(
    await d.post(`${M}/runs/update`, { run_id: id, status: "FINISHED" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
});

test("runs/update sets status, end time and name and returns run_info", async () => {
  const id = await newRun({ run_name: "before" });
  const r = await d.post(`${M}/runs/update`, {
    run_id: id,
    status: "FINISHED",
    end_time: 1700000005000,
    run_name: "after",
  });
  assert.equal(r.status, 200);
  assert.equal(r.json.run_info.status, "FINISHED");
  assert.equal(r.json.run_info.end_time, 1700000005000);
  assert.equal(r.json.run_info.run_name, "after");
  const got = await d.get(`${M}/runs/get`, { run_id: id });
  const nameTag = got.json.run.data.tags.find((t: { key: string }) => t.key === "mlflow.runName");
  assert.equal(nameTag.value, "after");
  assertMlflowError(
    await d.post(`${M}/runs/update`, { run_id: id, status: "DONE" }),
    400,
    "INVALID_PARAMETER_VALUE",
  );
});

test("log-metric, log-parameter, set-tag and delete-tag show up in runs/get", async () => {
  const id = await newRun();
  const ok = async (path: string, body: object) => {
    const r = await d.post(`${M}/${path}`, { run_id: id, ...body });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {});
  };
  await ok("runs/log-metric", { key: "loss", value: 0.5, timestamp: 10, step: 1 });
  await ok("runs/log-metric", { key: "loss", value: 0.25, timestamp: 20, step: 2 });
  await ok("runs/log-parameter", { key: "lr", value: "0.01" });
  await ok("runs/set-tag", { key: "note", value: "a" });
  await ok("runs/set-tag", { key: "note", value: "b" });
  await ok("runs/set-tag", { key: "gone", value: "x" });
  await ok("runs/delete-tag", { key: "gone" });

  const { data } = (await d.get(`${M}/runs/get`, { run_id: id })).json.run;
  assert.deepEqual(data.metrics, [{ key: "loss", value: 0.25, timestamp: 20, step: 2 }]);
  assert.deepEqual(data.params, [{ key: "lr", value: "0.01" }]);
  const tags = Object.fromEntries(
    data.tags.map((t: { key: string; value: string }) => [t.key, t.value]),
  );
  assert.equal(tags.note, "b");
  assert.equal(tags.gone, undefined);

  assertMlflowError(
    await d.post(`${M}/runs/delete-tag`, { run_id: id, key: "gone" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
});

test("log-metric without a timestamp is 400 INVALID_PARAMETER_VALUE, as MLflow requires one", async () => {
  const id = await newRun();
  assertMlflowError(
    await d.post(`${M}/runs/log-metric`, { run_id: id, key: "a", value: 1 }),
    400,
    "INVALID_PARAMETER_VALUE",
  );
  assertMlflowError(
    await d.post(`${M}/runs/log-metric`, { run_id: id, key: "a", value: "high", timestamp: 1 }),
    400,
    "INVALID_PARAMETER_VALUE",
  );
});

test("a param logged again with the same value is fine; a new value is 400 INVALID_PARAMETER_VALUE", async () => {
  const id = await newRun();
  const log = (value: string) =>
    d.post(`${M}/runs/log-parameter`, { run_id: id, run_uuid: id, key: "lr", value });
  assert.equal((await log("0.1")).status, 200);
  assert.equal((await log("0.1")).status, 200);
  const changed = await log("0.2");
  assertMlflowError(changed, 400, "INVALID_PARAMETER_VALUE");
  assert.match(changed.json.message, /Changing param values is not allowed/);

  const batch = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    params: [{ key: "lr", value: "0.3" }],
  });
  assertMlflowError(batch, 400, "INVALID_PARAMETER_VALUE");
  const params = (await d.get(`${M}/runs/get`, { run_id: id })).json.run.data.params;
  assert.deepEqual(params, [{ key: "lr", value: "0.1" }]);
});

test("a batch over the limits is 400 and stores nothing", async () => {
  const id = await newRun();
  const metrics = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ key: "m", value: i, timestamp: 1, step: i }));
  const params = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: "v" }));
  const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `t${i}`, value: "v" }));

  const cases = [
    { metrics: metrics(1001) },
    { params: params(101) },
    { tags: tags(101) },
    { metrics: metrics(900), params: params(50), tags: tags(51) },
  ];
  for (const body of cases) {
    const r = await d.post(`${M}/runs/log-batch`, { run_id: id, ...body });
    assertMlflowError(r, 400, "INVALID_PARAMETER_VALUE");
    assert.match(r.json.message, /A batch logging request can contain at most/);
  }
  // One bad item fails the whole batch: the good ones before it are not written either.
  const mixed = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    metrics: [...metrics(5), { key: "bad/../key", value: 1, timestamp: 1 }],
    params: params(3),
  });
  assertMlflowError(mixed, 400, "INVALID_PARAMETER_VALUE");

  const { data } = (await d.get(`${M}/runs/get`, { run_id: id })).json.run;
  assert.deepEqual(data.metrics, []);
  assert.deepEqual(data.params, []);
  assert.deepEqual(
    data.tags.map((t: { key: string }) => t.key),
    ["mlflow.runName"],
  );
  const history = await d.get(`${M}/metrics/get-history`, { run_id: id, metric_key: "m" });
  assert.deepEqual(history.json.metrics, []);
});

test("a batch at the limits is stored whole: 1000 metrics; 800 metrics + 100 params + 100 tags", async () => {
  const id = await newRun();
  const metrics = Array.from({ length: 1000 }, (_, i) => ({
    key: "m",
    value: i,
    timestamp: 1,
    step: i,
  }));
  assert.equal((await d.post(`${M}/runs/log-batch`, { run_id: id, metrics })).status, 200);
  const mixed = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    metrics: metrics.slice(0, 800).map((m) => ({ ...m, key: "n" })),
    params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: "v" })),
    tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: "v" })),
  });
  assert.equal(mixed.status, 200, mixed.text);
  const history = await d.get(`${M}/metrics/get-history`, { run_id: id, metric_key: "m" });
  assert.equal(history.json.metrics.length, 1000);
});

test("NaN and ±Infinity round-trip as MLflow's JSON strings", async () => {
  const id = await newRun();
  const r = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    metrics: [
      { key: "x", value: "NaN", timestamp: 1, step: 0 },
      { key: "x", value: "Infinity", timestamp: 1, step: 1 },
      { key: "x", value: "-Infinity", timestamp: 1, step: 2 },
      { key: "x", value: 1.5, timestamp: 1, step: 3 },
      { key: "y", value: "-Infinity", timestamp: 1, step: 0 },
    ],
  });
  assert.equal(r.status, 200, r.text);
  await d.post(`${M}/runs/log-metric`, { run_id: id, key: "z", value: "NaN", timestamp: 2 });

  const history = await d.get(`${M}/metrics/get-history`, { run_id: id, metric_key: "x" });
  assert.deepEqual(
    history.json.metrics.map((m: { value: unknown }) => m.value),
    ["NaN", "Infinity", "-Infinity", 1.5],
  );
  const latest = (await d.get(`${M}/runs/get`, { run_id: id })).json.run.data.metrics;
  assert.deepEqual(latest, [
    { key: "x", value: 1.5, timestamp: 1, step: 3 },
    { key: "y", value: "-Infinity", timestamp: 1, step: 0 },
    { key: "z", value: "NaN", timestamp: 2, step: 0 },
  ]);
});

test("unicode keys are accepted and kept as sent", async () => {
  const id = await newRun();
  const keys = ["точность", "精度/验证", "ß-loss.train", "naïve_ratio"];
  const r = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    metrics: keys.map((key) => ({ key, value: 1, timestamp: 1 })),
    params: [{ key: "学习率", value: "ε=0.1" }],
    tags: [{ key: "étiquette", value: "✓" }],
  });
  assert.equal(r.status, 200, r.text);
  const { data } = (await d.get(`${M}/runs/get`, { run_id: id })).json.run;
  assert.deepEqual(data.metrics.map((m: { key: string }) => m.key).sort(), [...keys].sort());
  assert.deepEqual(data.params, [{ key: "学习率", value: "ε=0.1" }]);
  assert.ok(
    data.tags.some((t: { key: string; value: string }) => t.key === "étiquette" && t.value === "✓"),
  );
  const history = await d.get(`${M}/metrics/get-history`, { run_id: id, metric_key: "精度/验证" });
  assert.equal(history.json.metrics.length, 1);
});

test("keys MLflow refuses are 400: bad characters, paths that resolve elsewhere", async () => {
  const id = await newRun();
  for (const key of ["a=b", "a/../b", "/abs", "a/", "", "semi;colon"]) {
    const r = await d.post(`${M}/runs/log-metric`, { run_id: id, key, value: 1, timestamp: 1 });
    assertMlflowError(r, 400, "INVALID_PARAMETER_VALUE");
  }
});

test("out-of-order and negative steps are kept; history is by step and the latest is the highest step", async () => {
  const id = await newRun();
  const steps = [5, -3, 2, 0, -10, 7, 1];
  const r = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    metrics: steps.map((step) => ({ key: "s", value: step * 10, timestamp: 100 - step, step })),
  });
  assert.equal(r.status, 200);
  const history = (await d.get(`${M}/metrics/get-history`, { run_id: id, metric_key: "s" })).json
    .metrics;
  assert.deepEqual(
    history.map((m: { step: number }) => m.step),
    [...steps].sort((a, b) => a - b),
  );
  assert.deepEqual(history[0], { key: "s", value: -100, timestamp: 110, step: -10 });
  const latest = (await d.get(`${M}/runs/get`, { run_id: id })).json.run.data.metrics;
  assert.deepEqual(latest, [{ key: "s", value: 70, timestamp: 93, step: 7 }]);
});

test("a key of 250 characters is accepted and one of 251 is 400 INVALID_PARAMETER_VALUE", async () => {
  const id = await newRun();
  const k250 = "k".repeat(250);
  const k251 = "k".repeat(251);
  for (const [path, body] of [
    ["runs/log-metric", { value: 1, timestamp: 1 }],
    ["runs/log-parameter", { value: "v" }],
    ["runs/set-tag", { value: "v" }],
  ] as const) {
    const good = await d.post(`${M}/${path}`, { run_id: id, key: k250, ...body });
    assert.equal(good.status, 200, `${path}: ${good.text}`);
    const bad = await d.post(`${M}/${path}`, { run_id: id, key: k251, ...body });
    assertMlflowError(bad, 400, "INVALID_PARAMETER_VALUE");
    assert.match(bad.json.message, /exceeded length limit of 250/);
  }
  // Length counts characters, not UTF-16 units: 250 astral letters (two units each) are fine.
  const astral = "𝐀".repeat(250);
  const r = await d.post(`${M}/runs/log-metric`, {
    run_id: id,
    key: astral,
    value: 1,
    timestamp: 1,
  });
  assert.equal(r.status, 200, r.text);
});

test("get-history pages with max_results and page_token", async () => {
  const id = await newRun();
  const metrics = Array.from({ length: 25 }, (_, i) => ({
    key: "p",
    value: i,
    timestamp: 1,
    step: i,
  }));
  await d.post(`${M}/runs/log-batch`, { run_id: id, metrics });
  const seen: number[] = [];
  let token: string | undefined;
  do {
    const query: Record<string, string> = { run_id: id, metric_key: "p", max_results: "10" };
    if (token) {
      query.page_token = token;
    }
    const page = (await d.get(`${M}/metrics/get-history`, query)).json;
    seen.push(...page.metrics.map((m: { step: number }) => m.step));
    token = page.next_page_token;
  } while (token);
  assert.deepEqual(
    seen,
    Array.from({ length: 25 }, (_, i) => i),
  );
});

test("runs/delete hides a run from search and refuses writes; runs/restore brings it back", async () => {
  const id = await newRun({ run_name: "deletable" });
  const search = async (run_view_type?: string) => {
    const r = await d.post(`${M}/runs/search`, {
      experiment_ids: [experimentId],
      filter: "attributes.run_name = 'deletable'",
      ...(run_view_type ? { run_view_type } : {}),
    });
    return r.json.runs.map((run: { info: { run_id: string } }) => run.info.run_id);
  };
  assert.deepEqual(await search(), [id]);

  assert.deepEqual((await d.post(`${M}/runs/delete`, { run_id: id })).json, {});
  const got = (await d.get(`${M}/runs/get`, { run_id: id })).json.run.info;
  assert.equal(got.lifecycle_stage, "deleted");
  assert.deepEqual(await search(), []);
  assert.deepEqual(await search("DELETED_ONLY"), [id]);
  assert.deepEqual(await search("ALL"), [id]);
  assertMlflowError(
    await d.post(`${M}/runs/log-metric`, { run_id: id, key: "a", value: 1, timestamp: 1 }),
    400,
    "INVALID_PARAMETER_VALUE",
  );

  assert.deepEqual((await d.post(`${M}/runs/restore`, { run_id: id })).json, {});
  assert.equal(
    (await d.get(`${M}/runs/get`, { run_id: id })).json.run.info.lifecycle_stage,
    "active",
  );
  assert.deepEqual(await search(), [id]);
});

test("errors under the MLflow prefixes have MLflow's shape: no route, wrong token, bad JSON", async () => {
  assertMlflowError(await d.get(`${M}/runs/unknown`), 404, "ENDPOINT_NOT_FOUND");
  const unauth = await d.call("GET", `${M}/runs/get?run_id=x`, undefined, {
    Authorization: "Bearer wrong",
  });
  assertMlflowError(unauth, 401, "UNAUTHENTICATED");
  const badJson = await d.call("POST", `${M}/runs/create`, Buffer.from("{not json"));
  assertMlflowError(badJson, 400, "INVALID_PARAMETER_VALUE");
  // Lathe's own routes keep Lathe's shape.
  const native = await d.get("/api/v1/runs/0000");
  assert.equal(native.json.code, "LATHE_NOT_FOUND");
});

test("experiments/create with a name that is not a string is 400 INVALID_PARAMETER_VALUE, not a new '5'", async () => {
  for (const name of [5, true, ["x"]]) {
    const r = await d.post(`${M}/experiments/create`, { name });
    assertMlflowError(r, 400, "INVALID_PARAMETER_VALUE");
    assert.match(r.json.message, /parameter 'name'.*must be a string/);
  }
  const found = await d.get(`${M}/experiments/get-by-name`, { experiment_name: "5" });
  assertMlflowError(found, 404, "RESOURCE_DOES_NOT_EXIST");
});

test("max_results below 1 is 400 for experiments/search and get-history, as for runs/search", async () => {
  const id = await newRun();
  await d.post(`${M}/runs/log-metric`, { run_id: id, key: "m", value: 1, timestamp: 1 });
  const searches = [
    d.post(`${M}/experiments/search`, { max_results: 0 }),
    d.get(`${M}/experiments/search`, { max_results: "-1" }),
    d.post(`${M}/runs/search`, { experiment_ids: [experimentId], max_results: 0 }),
    d.get(`${M}/metrics/get-history`, { run_id: id, metric_key: "m", max_results: "0" }),
  ];
  for (const r of await Promise.all(searches)) {
    assertMlflowError(r, 400, "INVALID_PARAMETER_VALUE");
    assert.match(r.json.message, /Invalid value -?\d+ for parameter 'max_results'.*at least 1/);
  }
  const over = await d.post(`${M}/experiments/search`, { max_results: 50001 });
  assertMlflowError(over, 400, "INVALID_PARAMETER_VALUE");
});

test("null start_time, end_time, step and batch timestamp are unset, as MLflow reads them", async () => {
  const before = Date.now();
  const created = await d.post(`${M}/runs/create`, {
    experiment_id: experimentId,
    start_time: null,
  });
  assert.equal(created.status, 200, created.text);
  const id = created.json.run.info.run_id;
  assert.ok(Number(created.json.run.info.start_time) >= before, "start_time is now");

  const metric = await d.post(`${M}/runs/log-metric`, {
    run_id: id,
    key: "loss",
    value: 0.5,
    timestamp: 7,
    step: null,
  });
  assert.equal(metric.status, 200, metric.text);
  const batch = await d.post(`${M}/runs/log-batch`, {
    run_id: id,
    metrics: [{ key: "acc", value: 0.9, timestamp: null, step: null }],
  });
  assert.equal(batch.status, 200, batch.text);
  const update = await d.post(`${M}/runs/update`, {
    run_id: id,
    status: "FINISHED",
    end_time: null,
  });
  assert.equal(update.status, 200, update.text);
  assert.equal(update.json.run_info.status, "FINISHED");

  const run = (await d.get(`${M}/runs/get`, { run_id: id })).json.run;
  const byKey = Object.fromEntries(run.data.metrics.map((m: { key: string }) => [m.key, m]));
  assert.deepEqual([byKey.loss.step, byKey.loss.timestamp], [0, 7]);
  assert.equal(byKey.acc.step, 0);
  assert.ok(Number(byKey.acc.timestamp) >= before, "the batch point's timestamp is now");
});

test("a number beyond float64 (1e400) is 400 naming the field and the number as sent", async () => {
  const id = await newRun();
  const raw = (path: string, text: string) =>
    d.call("POST", `${M}/${path}`, Buffer.from(text), { "Content-Type": "application/json" });
  const single = await raw(
    "runs/log-metric",
    `{"run_id": "${id}", "key": "loss", "value": 1e400, "timestamp": 1}`,
  );
  assertMlflowError(single, 400, "INVALID_PARAMETER_VALUE");
  assert.match(single.json.message, /1e400/);
  assert.match(single.json.message, /'value'/);
  assert.doesNotMatch(single.json.message, /null/);

  const batch = await raw(
    "runs/log-batch",
    `{"run_id": "${id}", "metrics": [{"key": "a", "value": 1, "timestamp": 1}, {"key": "b", "value": -2E+999, "timestamp": 1}]}`,
  );
  assertMlflowError(batch, 400, "INVALID_PARAMETER_VALUE");
  assert.match(batch.json.message, /-2E\+999/);
  assert.match(batch.json.message, /'metrics\[1\]\.value'/);
  const run = (await d.get(`${M}/runs/get`, { run_id: id })).json.run;
  assert.deepEqual(run.data.metrics, [], "nothing of the batch stored");
});
