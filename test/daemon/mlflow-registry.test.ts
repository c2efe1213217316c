/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   Responses are checked field by field against MLflow's shapes; typing them first would restate the shapes under test. */
/**
 * MLflow's model registry REST calls over real HTTP (model_registry.proto: RegisteredModel,
 * ModelVersion, RegisteredModelAlias), in the order MLflow's client makes them: a run logs an
 * ONNX model as an artifact, `register_model` creates the model and a version from the
 * artifact's URI, then aliases are set, read and deleted. Errors are `{error_code, message}`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { linearSoftmaxModel } from "../fixtures/onnx";
import { M, trackingDaemon, type Reply, type TrackingDaemon } from "./tracking-helpers";

const A = "/api/2.0/mlflow-artifacts/artifacts";
let d: TrackingDaemon;
let runId: string;
let artifactUri: string;

before(async () => {
  d = await trackingDaemon("lathe-mlflow-registry-");
  const run = (await d.post(`${M}/runs/create`, {})).json.run.info;
  runId = run.run_id;
  artifactUri = run.artifact_uri;
  await d.post(`${M}/runs/log-metric`, {
    run_id: runId,
    key: "accuracy",
    value: 0.81,
    timestamp: 1,
    step: 0,
  });
  const base = artifactUri.replace("mlflow-artifacts:/", "");
  for (const [path, bytes] of [
    ["model/model.onnx", linearSoftmaxModel()],
    ["model/MLmodel", Buffer.from("flavors:\n  onnx: {}\n")],
    ["other.onnx", linearSoftmaxModel({ bias: [1, 2, 3] })],
  ] as const) {
    const r = await d.call("PUT", `${A}/${base}/${path}`, Buffer.from(bytes), {
      "Content-Type": "application/octet-stream",
    });
    assert.equal(r.status, 200, r.text);
  }
});

after(async () => {
  await d.close();
});

function assertMlflowError(r: Reply, status: number, code: string, pattern?: RegExp) {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ["error_code", "message"]);
  assert.equal(r.json.error_code, code);
  if (pattern) {
    assert.match(r.json.message, pattern);
  }
}

/** As Python's requests sends it: with a Content-Length (Node's client sends a DELETE body with none). */
const del = (path: string, body: unknown) =>
  d.call("DELETE", `${M}/${path}`, body, {
    "Content-Length": String(Buffer.byteLength(JSON.stringify(body))),
  });

test("registered-models/create answers a RegisteredModel; creating it again is RESOURCE_ALREADY_EXISTS", async () => {
  const r = await d.post(`${M}/registered-models/create`, {
    name: "iris",
    description: "a classifier",
    tags: [{ key: "team", value: "ml" }],
  });
  assert.equal(r.status, 200, r.text);
  const m = r.json.registered_model;
  assert.deepEqual(Object.keys(m).sort(), [
    "aliases",
    "creation_timestamp",
    "description",
    "last_updated_timestamp",
    "latest_versions",
    "name",
    "tags",
    "user_id",
  ]);
  assert.equal(m.name, "iris");
  assert.equal(m.description, "a classifier");
  assert.deepEqual(m.tags, [{ key: "team", value: "ml" }]);
  assert.deepEqual(m.latest_versions, []);
  assert.deepEqual(m.aliases, []);
  assert.equal(typeof m.creation_timestamp, "number");

  const again = await d.post(`${M}/registered-models/create`, { name: "iris" });
  assertMlflowError(again, 400, "RESOURCE_ALREADY_EXISTS", /iris/);
  assertMlflowError(
    await d.post(`${M}/registered-models/create`, {}),
    400,
    "INVALID_PARAMETER_VALUE",
    /'name'/,
  );
  assertMlflowError(
    await d.post(`${M}/registered-models/create`, { name: "bad name" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /not a valid model name/,
  );
});

test("model-versions/create from the artifact URI of a logged model answers a READY ModelVersion", async () => {
  const r = await d.post(`${M}/model-versions/create`, {
    name: "iris",
    source: `${artifactUri}/model`,
    run_id: runId,
    tags: [{ key: "framework", value: "onnx" }],
    description: "first",
  });
  assert.equal(r.status, 200, r.text);
  const v = r.json.model_version;
  assert.deepEqual(Object.keys(v).sort(), [
    "aliases",
    "creation_timestamp",
    "current_stage",
    "description",
    "last_updated_timestamp",
    "name",
    "run_id",
    "run_link",
    "source",
    "status",
    "tags",
    "user_id",
    "version",
  ]);
  assert.equal(v.name, "iris");
  assert.equal(v.version, "1");
  assert.equal(v.status, "READY");
  assert.equal(v.current_stage, "None");
  assert.equal(v.run_id, runId);
  assert.equal(v.source, `runs:/${runId}/model/model.onnx`);
  assert.equal(v.description, "first");
  assert.deepEqual(v.tags, [{ key: "framework", value: "onnx" }]);

  const second = await d.post(`${M}/model-versions/create`, {
    name: "iris",
    source: `runs:/${runId}/other.onnx`,
  });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.json.model_version.version, "2");

  const got = await d.get(`${M}/model-versions/get`, { name: "iris", version: "1" });
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.model_version.version, "1");
  assert.equal(got.json.model_version.description, "first");
});

test("model-versions/create errors: unknown model, run or artifact, and a source without a run", async () => {
  assertMlflowError(
    await d.post(`${M}/model-versions/create`, { name: "nope", source: `runs:/${runId}/model` }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /Registered Model with name=nope not found/,
  );
  assertMlflowError(
    await d.post(`${M}/model-versions/create`, {
      name: "iris",
      source: `runs:/${"0".repeat(32)}/m`,
    }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /0000/,
  );
  assertMlflowError(
    await d.post(`${M}/model-versions/create`, {
      name: "iris",
      source: `runs:/${runId}/missing.onnx`,
    }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /no output 'missing\.onnx'/,
  );
  assertMlflowError(
    await d.post(`${M}/model-versions/create`, { name: "iris", source: "s3://bucket/model" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /pass run_id/,
  );
  assertMlflowError(
    await d.get(`${M}/model-versions/get`, { name: "iris", version: "7" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /Model Version \(name=iris, version=7\) not found/,
  );
  assertMlflowError(
    await d.get(`${M}/model-versions/get`, { name: "iris", version: "one" }),
    400,
    "INVALID_PARAMETER_VALUE",
  );
});

test("registered-models/alias sets, gets (a ModelVersion) and deletes an alias", async () => {
  const set = await d.post(`${M}/registered-models/alias`, {
    name: "iris",
    alias: "champion",
    version: "2",
  });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.json, {});

  const got = await d.get(`${M}/registered-models/alias`, { name: "iris", alias: "champion" });
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.model_version.version, "2");
  assert.deepEqual(got.json.model_version.aliases, ["champion"]);

  const model = (await d.get(`${M}/registered-models/get`, { name: "iris" })).json.registered_model;
  assert.deepEqual(model.aliases, [{ alias: "champion", version: "2" }]);

  assert.deepEqual(
    (await del("registered-models/alias", { name: "iris", alias: "champion" })).json,
    {},
  );
  assertMlflowError(
    await d.get(`${M}/registered-models/alias`, { name: "iris", alias: "champion" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /alias champion not found/,
  );
  assertMlflowError(
    await del("registered-models/alias", { name: "iris", alias: "champion" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  assertMlflowError(
    await d.post(`${M}/registered-models/alias`, { name: "iris", alias: "champion", version: "9" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /version=9/,
  );
  assertMlflowError(
    await d.post(`${M}/registered-models/alias`, { name: "iris", alias: "not ok", version: "1" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /not a valid alias/,
  );
  assertMlflowError(
    await d.post(`${M}/registered-models/alias`, { name: "ghost", alias: "a", version: "1" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /name=ghost/,
  );
});

test("transition-stage moves a version; latest_versions has the newest version per stage", async () => {
  const r = await d.post(`${M}/model-versions/transition-stage`, {
    name: "iris",
    version: "1",
    stage: "production",
    archive_existing_versions: false,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model_version.current_stage, "Production");
  const model = (await d.get(`${M}/registered-models/get`, { name: "iris" })).json.registered_model;
  assert.deepEqual(
    model.latest_versions.map((v: { version: string; current_stage: string }) => [
      v.version,
      v.current_stage,
    ]),
    [
      ["2", "None"],
      ["1", "Production"],
    ],
  );
  assertMlflowError(
    await d.post(`${M}/model-versions/transition-stage`, {
      name: "iris",
      version: "1",
      stage: "Live",
    }),
    400,
    "INVALID_PARAMETER_VALUE",
    /Invalid Model Version stage: Live/,
  );
});

test("registered-models/search and model-versions/search filter by name and run_id, and page", async () => {
  await d.post(`${M}/registered-models/create`, { name: "iris-small" });
  await d.post(`${M}/registered-models/create`, { name: "wine" });
  const all = await d.get(`${M}/registered-models/search`);
  assert.deepEqual(
    all.json.registered_models.map((m: { name: string }) => m.name),
    ["iris", "iris-small", "wine"],
  );
  const like = await d.get(`${M}/registered-models/search`, { filter: "name LIKE 'iris%'" });
  assert.deepEqual(
    like.json.registered_models.map((m: { name: string }) => m.name),
    ["iris", "iris-small"],
  );

  const page1 = await d.get(`${M}/registered-models/search`, { max_results: "2" });
  assert.equal(page1.json.registered_models.length, 2);
  assert.equal(typeof page1.json.next_page_token, "string");
  const page2 = await d.get(`${M}/registered-models/search`, {
    max_results: "2",
    page_token: page1.json.next_page_token,
  });
  assert.deepEqual(
    page2.json.registered_models.map((m: { name: string }) => m.name),
    ["wine"],
  );
  assert.equal(page2.json.next_page_token, undefined);

  const versions = await d.get(`${M}/model-versions/search`, {
    filter: `name='iris' AND run_id='${runId}'`,
  });
  assert.equal(versions.status, 200, versions.text);
  assert.deepEqual(versions.json.model_versions.map((v: { version: string }) => v.version).sort(), [
    "1",
    "2",
  ]);
  const none = await d.get(`${M}/model-versions/search`, { filter: "name = 'wine'" });
  assert.deepEqual(none.json.model_versions, []);

  assertMlflowError(
    await d.get(`${M}/model-versions/search`, { filter: "accuracy > 0.5" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /Invalid filter 'accuracy > 0\.5'/,
  );
  assertMlflowError(
    await d.get(`${M}/registered-models/search`, { page_token: "garbage" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /page_token/,
  );
});

test("update, set-tag, delete-tag and get-latest-versions answer in MLflow's shapes", async () => {
  const updated = await d.call("PATCH", `${M}/registered-models/update`, {
    name: "iris",
    description: "now with two versions",
  });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.json.registered_model.description, "now with two versions");

  assert.deepEqual(
    (await d.post(`${M}/registered-models/set-tag`, { name: "iris", key: "k", value: "v" })).json,
    {},
  );
  const tagged = (await d.get(`${M}/registered-models/get`, { name: "iris" })).json
    .registered_model;
  assert.deepEqual(tagged.tags, [
    { key: "k", value: "v" },
    { key: "team", value: "ml" },
  ]);
  assert.deepEqual(
    (await del("registered-models/delete-tag", { name: "iris", key: "k" })).json,
    {},
  );
  assertMlflowError(
    await del("registered-models/delete-tag", { name: "iris", key: "k" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /No tag with name: k/,
  );

  await d.post(`${M}/model-versions/set-tag`, {
    name: "iris",
    version: "2",
    key: "checked",
    value: "yes",
  });
  const v2 = (await d.get(`${M}/model-versions/get`, { name: "iris", version: "2" })).json
    .model_version;
  assert.deepEqual(v2.tags, [{ key: "checked", value: "yes" }]);
  assert.deepEqual(
    (await del("model-versions/delete-tag", { name: "iris", version: "2", key: "checked" })).json,
    {},
  );

  const latest = await d.post(`${M}/registered-models/get-latest-versions`, {
    name: "iris",
    stages: ["Production"],
  });
  assert.equal(latest.status, 200, latest.text);
  assert.deepEqual(
    latest.json.model_versions.map((v: { version: string }) => v.version),
    ["1"],
  );
  const all = await d.post(`${M}/registered-models/get-latest-versions`, { name: "iris" });
  assert.equal(all.json.model_versions.length, 2);
});

test("registered-models/delete of a deployed model is refused until it is undeployed", async () => {
  const deployed = await d.post("/api/v1/deployments", { model: "iris", version: 1 });
  assert.equal(deployed.status, 200, deployed.text);
  try {
    const refused = await del("registered-models/delete", { name: "iris" });
    assertMlflowError(
      refused,
      400,
      "INVALID_PARAMETER_VALUE",
      /Model 'iris' is deployed \(iris\); undeploy it/,
    );
    const still = await d.get(`${M}/registered-models/get`, { name: "iris" });
    assert.equal(still.status, 200);
  } finally {
    const stopped = await d.call("DELETE", "/api/v1/deployments/iris");
    assert.equal(stopped.status, 200, stopped.text);
  }
});

test("registered-models/delete removes the model and its versions; then get is RESOURCE_DOES_NOT_EXIST", async () => {
  assert.deepEqual((await del("registered-models/delete", { name: "wine" })).json, {});
  assertMlflowError(
    await d.get(`${M}/registered-models/get`, { name: "wine" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /Registered Model with name=wine not found/,
  );
  assertMlflowError(
    await del("registered-models/delete", { name: "wine" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  assert.deepEqual((await del("registered-models/delete", { name: "iris" })).json, {});
  const left = await d.get(`${M}/model-versions/search`, { filter: "name = 'iris'" });
  assert.deepEqual(left.json.model_versions, []);
});
