/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call --
   Responses are checked field by field against MLflow's shapes; typing them first would restate the shapes under test. */
/** Proxied artifacts (`/api/2.0/mlflow-artifacts/artifacts/…`): upload, list, download. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

const A = "/api/2.0/mlflow-artifacts/artifacts";
let d: TrackingDaemon;
let base: string;
let runId: string;

before(async () => {
  d = await trackingDaemon("lathe-mlflow-artifacts-");
  const run = (await d.post(`${M}/runs/create`, {})).json.run.info;
  runId = run.run_id;
  base = run.artifact_uri.replace("mlflow-artifacts:/", "");
});

after(async () => {
  await d.close();
});

const put = (path: string, bytes: Buffer) =>
  d.call("PUT", `${A}/${base}/${path}`, bytes, { "Content-Type": "application/octet-stream" });

test("an uploaded file downloads byte for byte and is a blob in the content store", async () => {
  const bytes = randomBytes(300_000);
  const up = await put("model/weights.bin", bytes);
  assert.equal(up.status, 200, up.text);
  assert.deepEqual(up.json, {});

  const down = await d.call("GET", `${A}/${base}/model/weights.bin`);
  assert.equal(down.status, 200);
  assert.equal(down.headers["content-type"], "application/octet-stream");
  assert.ok(down.bytes.equals(bytes));

  const objects = join(d.root, ".lathe", "cache", "objects");
  assert.ok(existsSync(objects));
});

test("list gives the direct children of a folder: files with sizes, folders once", async () => {
  await put("notes.txt", Buffer.from("hello"));
  await put("model/config.json", Buffer.from("{}"));
  await put("model/sub/deep.txt", Buffer.from("deep"));

  const root = await d.get(A, { path: base });
  assert.equal(root.status, 200);
  assert.deepEqual(root.json.files, [
    { path: "model", is_dir: true },
    { path: "notes.txt", is_dir: false, file_size: 5 },
  ]);
  const model = await d.get(A, { path: `${base}/model` });
  assert.deepEqual(model.json.files, [
    { path: "config.json", is_dir: false, file_size: 2 },
    { path: "sub", is_dir: true },
    { path: "weights.bin", is_dir: false, file_size: 300_000 },
  ]);
  // The tracking API's artifacts/list answers the same for a run id.
  const legacy = await d.get(`${M}/artifacts/list`, { run_id: runId, path: "model/sub" });
  assert.equal(legacy.json.root_uri, `mlflow-artifacts:/${base}`);
  assert.deepEqual(legacy.json.files, [{ path: "deep.txt", is_dir: false, file_size: 4 }]);
});

test("an upload to the same path replaces the file", async () => {
  await put("notes.txt", Buffer.from("second version"));
  const down = await d.call("GET", `${A}/${base}/notes.txt`);
  assert.equal(down.text, "second version");
});

test("unknown files and runs are 404 RESOURCE_DOES_NOT_EXIST; paths leaving the run are 400", async () => {
  const missing = await d.call("GET", `${A}/${base}/nope.txt`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error_code, "RESOURCE_DOES_NOT_EXIST");

  const otherRun = await d.call(
    "PUT",
    `${A}/0/${"f".repeat(32)}/artifacts/x.txt`,
    Buffer.from("x"),
  );
  assert.equal(otherRun.status, 404);
  assert.equal(otherRun.json.error_code, "RESOURCE_DOES_NOT_EXIST");

  const escape = await d.call("PUT", `${A}/${base}/a/..%2F..%2Fb.txt`, Buffer.from("x"));
  assert.equal(escape.status, 400);
  assert.equal(escape.json.error_code, "INVALID_PARAMETER_VALUE");
});
