/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   Responses are checked field by field against MLflow's shapes; typing them first would restate the shapes under test. */
/**
 * MLflow's registered-models/rename, model-versions/delete and model-versions/get-download-uri
 * over real HTTP: a rename carries versions, tags, aliases, stages, the audit log and the
 * model's deployment to the new name; a delete drops the version's aliases and is refused while
 * a deployment serves it; the download URI is one the daemon answers with the version's bytes.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { register } from "../../daemon/src/registry/register";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import { M, trackingDaemon, type Reply, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
const first = linearSoftmaxModel({ bias: [0, 0, 0] });
const second = linearSoftmaxModel({ bias: [1, 0, 0] });

before(async () => {
  d = await trackingDaemon("lathe-mlflow-registry-lifecycle-");
  const ctx = d.daemon.ctx;
  for (const bytes of [first, second]) {
    const run = seedRun(ctx.db, ctx.ws.objectsDir, bytes);
    register(ctx, { model: "iris", runId: run.runId });
  }
  const wine = seedRun(ctx.db, ctx.ws.objectsDir, first);
  register(ctx, { model: "wine", runId: wine.runId });
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

const rename = (body: unknown) => d.post(`${M}/registered-models/rename`, body);

async function undeploy(name: string): Promise<void> {
  const stopped = await d.call("DELETE", `/api/v1/deployments/${name}`);
  assert.equal(stopped.status, 200, stopped.text);
}

/** GET on an absolute URL the daemon answers, with its token. */
function fetchBytes(url: string): Promise<{ status: number; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Authorization: `Bearer ${d.token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("registered-models/rename errors: unknown model, taken name, missing or bad new_name, a live deployment", async () => {
  assertMlflowError(
    await rename({ name: "ghost", new_name: "spirit" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /Registered Model with name=ghost not found/,
  );
  assertMlflowError(
    await rename({ name: "iris", new_name: "wine" }),
    400,
    "RESOURCE_ALREADY_EXISTS",
    /Registered Model \(name=wine\) already exists/,
  );
  assertMlflowError(await rename({ name: "iris" }), 400, "INVALID_PARAMETER_VALUE", /'new_name'/);
  assertMlflowError(
    await rename({ name: "iris", new_name: "bad name" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /'bad name' is not a valid model name/,
  );

  const deployed = await d.post("/api/v1/deployments", { model: "iris@2" });
  assert.equal(deployed.status, 200, deployed.text);
  try {
    assertMlflowError(
      await rename({ name: "iris", new_name: "flowers" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /Model 'iris' is deployed \(iris\); undeploy it before renaming it, then deploy 'flowers'/,
    );
  } finally {
    await undeploy("iris");
  }
  const still = await d.get(`${M}/registered-models/get`, { name: "iris" });
  assert.equal(still.status, 200, still.text);
});

test("registered-models/rename moves versions, tags, aliases, stages, the audit log and the stopped deployment", async () => {
  await d.post(`${M}/registered-models/set-tag`, { name: "iris", key: "team", value: "ml" });
  await d.post(`${M}/model-versions/set-tag`, { name: "iris", version: "1", key: "k", value: "v" });
  await d.post(`${M}/registered-models/alias`, { name: "iris", alias: "champion", version: "2" });
  await d.post(`${M}/model-versions/transition-stage`, {
    name: "iris",
    version: "1",
    stage: "Production",
  });
  // The deployment row the first test left stopped, now following the alias.
  const deployed = await d.post("/api/v1/deployments", { model: "iris@champion" });
  assert.equal(deployed.status, 200, deployed.text);
  await undeploy("iris");

  const r = await rename({ name: "iris", new_name: "flowers" });
  assert.equal(r.status, 200, r.text);
  const m = r.json.registered_model;
  assert.equal(m.name, "flowers");
  assert.deepEqual(m.tags, [{ key: "team", value: "ml" }]);
  assert.deepEqual(m.aliases, [{ alias: "champion", version: "2" }]);
  assert.deepEqual(
    m.latest_versions.map((v: { name: string; version: string; current_stage: string }) => [
      v.name,
      v.version,
      v.current_stage,
    ]),
    [
      ["flowers", "2", "None"],
      ["flowers", "1", "Production"],
    ],
  );

  assertMlflowError(
    await d.get(`${M}/registered-models/get`, { name: "iris" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  const v1 = (await d.get(`${M}/model-versions/get`, { name: "flowers", version: "1" })).json
    .model_version;
  assert.deepEqual(v1.tags, [{ key: "k", value: "v" }]);
  assert.equal(v1.current_stage, "Production");
  const byAlias = await d.get(`${M}/registered-models/alias`, {
    name: "flowers",
    alias: "champion",
  });
  assert.equal(byAlias.json.model_version.version, "2");

  const history = (await d.get("/api/v1/models/flowers/history")).json;
  assert.deepEqual(
    history.map((e: { kind: string; name: string; from: string; to: string }) => [
      e.kind,
      e.name,
      e.from,
      e.to,
    ]),
    [
      ["rename", "name", "iris", "flowers"],
      ["stage", "1", "None", "Production"],
      ["alias", "champion", null, "2"],
    ],
  );
  assert.equal((await d.get("/api/v1/models/iris/history")).status, 404);

  const deployment = await d.get("/api/v1/deployments/flowers");
  assert.equal(deployment.status, 200, deployment.text);
  assert.equal(deployment.json.model, "flowers");
  assert.equal(deployment.json.target, "flowers@champion");
  assert.equal(deployment.json.state, "stopped");
  assert.equal((await d.get("/api/v1/deployments/iris")).status, 404);

  // Deploying the renamed target again serves the version the alias names.
  const again = await d.post("/api/v1/deployments", { model: "flowers@champion" });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.version, 2);
  await undeploy("flowers");
});

test("model-versions/delete is refused while a deployment serves the version", async () => {
  const deployed = await d.post("/api/v1/deployments", { model: "flowers@1" });
  assert.equal(deployed.status, 200, deployed.text);
  try {
    assertMlflowError(
      await del("model-versions/delete", { name: "flowers", version: "1" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /Version 1 of 'flowers' is served by deployment 'flowers' \(ready\); undeploy it/,
    );
  } finally {
    await undeploy("flowers");
  }
  const kept = await d.get(`${M}/model-versions/get`, { name: "flowers", version: "1" });
  assert.equal(kept.status, 200, kept.text);
});

test("model-versions/delete drops the version's aliases, audits both, and never reuses its number", async () => {
  assertMlflowError(
    await del("model-versions/delete", { name: "flowers", version: "9" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /Model Version \(name=flowers, version=9\) not found/,
  );
  assertMlflowError(
    await del("model-versions/delete", { name: "ghost", version: "1" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /name=ghost/,
  );
  assertMlflowError(
    await del("model-versions/delete", { name: "flowers", version: "two" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /'version' must be an integer/,
  );

  const r = await del("model-versions/delete", { name: "flowers", version: "2" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {});
  assertMlflowError(
    await d.get(`${M}/model-versions/get`, { name: "flowers", version: "2" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
  );
  assertMlflowError(
    await d.get(`${M}/registered-models/alias`, { name: "flowers", alias: "champion" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /alias champion not found/,
  );
  const model = (await d.get(`${M}/registered-models/get`, { name: "flowers" })).json
    .registered_model;
  assert.deepEqual(model.aliases, []);
  assert.deepEqual(
    model.latest_versions.map((v: { version: string }) => v.version),
    ["1"],
  );
  const history = (await d.get("/api/v1/models/flowers/history")).json.slice(0, 2);
  assert.deepEqual(
    history.map((e: { kind: string; name: string; from: string; to: string; actor: string }) => [
      e.kind,
      e.name,
      e.from,
      e.to,
      e.actor,
    ]),
    [
      ["version", "2", "None", null, "mlflow client"],
      ["alias", "champion", "2", null, "mlflow client"],
    ],
  );
  assert.equal(history[1].reason, "version 2 deleted");

  // MLflow never hands out a deleted version's number again.
  const ctx = d.daemon.ctx;
  const run = seedRun(ctx.db, ctx.ws.objectsDir, second);
  const next = await d.post("/api/v1/models/flowers/versions", { runId: run.runId });
  assert.equal(next.status, 200, next.text);
  assert.equal(next.json.version, 3);
});

test("get-download-uri answers a URI the daemon serves: the artifact route, or the version's file", async () => {
  const fromOutput = await d.get(`${M}/model-versions/get-download-uri`, {
    name: "flowers",
    version: "1",
  });
  assert.equal(fromOutput.status, 200, fromOutput.text);
  assert.deepEqual(Object.keys(fromOutput.json), ["artifact_uri"]);
  assert.equal(fromOutput.json.artifact_uri, `${d.url}/api/v1/models/flowers/versions/1/file`);
  const file = await fetchBytes(fromOutput.json.artifact_uri);
  assert.equal(file.status, 200);
  assert.deepEqual(file.bytes, Buffer.from(first));

  // A version registered from a logged artifact, as MLflow's client does it.
  const run = (await d.post(`${M}/runs/create`, {})).json.run.info;
  const base = run.artifact_uri.replace("mlflow-artifacts:/", "");
  const put = await d.call(
    "PUT",
    `/api/2.0/mlflow-artifacts/artifacts/${base}/model/model.onnx`,
    Buffer.from(second),
    { "Content-Type": "application/octet-stream" },
  );
  assert.equal(put.status, 200, put.text);
  await d.post(`${M}/registered-models/create`, { name: "logged" });
  const created = await d.post(`${M}/model-versions/create`, {
    name: "logged",
    source: `${run.artifact_uri}/model`,
    run_id: run.run_id,
  });
  assert.equal(created.status, 200, created.text);
  const fromArtifact = await d.get(`${M}/model-versions/get-download-uri`, {
    name: "logged",
    version: "1",
  });
  assert.equal(fromArtifact.status, 200, fromArtifact.text);
  assert.equal(fromArtifact.json.artifact_uri, `${run.artifact_uri}/model/model.onnx`);
  const served = await d.get(
    `/api/2.0/mlflow-artifacts/artifacts/${fromArtifact.json.artifact_uri.replace("mlflow-artifacts:/", "")}`,
  );
  assert.equal(served.status, 200, served.text);
  assert.deepEqual(served.bytes, Buffer.from(second));

  assertMlflowError(
    await d.get(`${M}/model-versions/get-download-uri`, { name: "flowers", version: "2" }),
    404,
    "RESOURCE_DOES_NOT_EXIST",
    /version=2/,
  );
  assertMlflowError(
    await d.get(`${M}/model-versions/get-download-uri`, { name: "flowers" }),
    400,
    "INVALID_PARAMETER_VALUE",
    /'version'/,
  );
  const missing = await d.get("/api/v1/models/flowers/versions/2/file");
  assert.equal(missing.status, 404, missing.text);
  assert.match(missing.json.message, /no version 2/);
});
