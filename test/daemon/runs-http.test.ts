import assert from "node:assert/strict";
import { request } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Experiment, ReproResult, RunDetail, RunSummary } from "../../schemas/api";
import { daemonIn, removeDir, tempDir } from "../helpers";
import { gitCommitAll, writeFiles } from "./pipeline-fixtures";

// The stage writes the variables the daemon gives it, so the test can check them.
const envScript = `const fs = require("fs");
const keys = ["LATHE_RUN_ID", "MLFLOW_RUN_ID", "LATHE_API", "LATHE_TOKEN", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"];
fs.writeFileSync("env.json", JSON.stringify(Object.fromEntries(keys.map((k) => [k, process.env[k] ?? null]))));
fs.writeFileSync("metrics.json", JSON.stringify({ acc: 0.75 }));`;

const files = {
  "lathe.yaml": `experiment: http-exp
stages:
  env:
    cmd: node env.js
    deps: [env.js]
    params: [lr]
    outs: [env.json]
    metrics: [metrics.json]
  slow:
    cmd: node -e "setTimeout(() => {}, 700)"
    always_changed: true
`,
  "params.yaml": "lr: 0.1\n",
  "env.js": envScript,
  ".gitignore": "/.lathe/\n",
};

let root: string;
let daemon: Awaited<ReturnType<typeof daemonIn>>;
let commit: string;

function raw(
  path: string,
  method = "GET",
  body?: string,
): Promise<{ status: number; json: { code?: string; message?: string } }> {
  const { port, token } = daemon.info;
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { code?: string } }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

before(async () => {
  root = await tempDir("lathe-runs-http-");
  writeFiles(root, files);
  commit = gitCommitAll(root);
  daemon = await daemonIn(root);
});

after(async () => {
  await daemon.close();
  await removeDir(root);
});

test("POST /api/v1/pipeline/repro runs the pipeline in the daemon and returns the ReproResult", async () => {
  const result = await daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {
    stages: ["env"],
  });
  assert.equal(result.ok, true);
  assert.equal(result.stages.length, 1);
  const stage = result.stages[0]!;
  assert.equal(stage.status, "ran");

  const env = JSON.parse(readFileSync(join(root, "env.json"), "utf8")) as Record<string, string>;
  assert.equal(env.LATHE_RUN_ID, stage.runId);
  assert.equal(env.MLFLOW_RUN_ID, stage.runId);
  assert.equal(env.LATHE_API, daemon.url);
  assert.equal(env.MLFLOW_TRACKING_URI, daemon.url);
  assert.equal(env.LATHE_TOKEN, daemon.info.token);
  assert.equal(env.MLFLOW_TRACKING_TOKEN, daemon.info.token);

  const run = await daemon.client.call<RunDetail>("GET", `/api/v1/runs/${stage.runId}`);
  assert.equal(run.status, "FINISHED");
  assert.equal(run.experimentName, "http-exp");
  assert.deepEqual(run.params, { lr: "0.1" });
  assert.equal(run.metrics.acc!.value, 0.75);
  assert.equal(run.gitCommit, commit);
  assert.equal(run.gitDirty, false, "lathe.lock, outputs and .lathe do not make the tree dirty");
  assert.deepEqual(
    run.outputs.map((o) => o.path),
    ["env.json", "metrics.json"],
  );
});

test("runs and experiments can be listed; a changed tracked file marks runs dirty", async () => {
  writeFileSync(join(root, "params.yaml"), "lr: 0.2\n");
  const result = await daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {
    stages: ["env"],
  });
  const run = await daemon.client.call<RunDetail>("GET", `/api/v1/runs/${result.stages[0]!.runId}`);
  assert.equal(run.gitDirty, true);
  assert.equal(run.gitCommit, commit);

  const experiments = await daemon.client.call<Experiment[]>("GET", "/api/v1/experiments");
  assert.deepEqual(
    experiments.map((e) => e.name),
    ["http-exp"],
  );
  assert.equal(experiments[0]!.runCount, 4);

  const id = experiments[0]!.id;
  const all = await daemon.client.call<RunSummary[]>("GET", `/api/v1/runs?experiment=${id}`);
  assert.equal(all.length, 4);
  const top = await daemon.client.call<RunSummary[]>("GET", "/api/v1/runs?parent=none");
  assert.deepEqual(
    top.map((r) => r.name),
    ["repro", "repro"],
  );
  const children = await daemon.client.call<RunSummary[]>(
    "GET",
    `/api/v1/runs?parent=${result.parentRunId}`,
  );
  assert.deepEqual(
    children.map((r) => r.id),
    [run.id],
  );
  assert.equal(children[0]!.params.lr, "0.2");
});

test("a second repro while one runs is 409 LATHE_CONFLICT", async () => {
  const first = daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {
    stages: ["slow"],
  });
  await new Promise((r) => setTimeout(r, 150));
  const second = await raw("/api/v1/pipeline/repro", "POST", "{}");
  assert.equal(second.status, 409);
  assert.equal(second.json.code, "LATHE_CONFLICT");
  assert.equal((await first).ok, true);
});

test("bad bodies are 400 and unknown runs 404", async () => {
  const malformed = await raw("/api/v1/pipeline/repro", "POST", "{not json");
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.code, "LATHE_BAD_INPUT");

  const unknownField = await raw("/api/v1/pipeline/repro", "POST", '{"stagez": ["a"]}');
  assert.equal(unknownField.status, 400);
  assert.match(unknownField.json.message ?? "", /unknown field 'stagez'/);

  const wrongType = await raw("/api/v1/pipeline/repro", "POST", '{"force": "yes"}');
  assert.equal(wrongType.status, 400);

  const missing = await raw(`/api/v1/runs/${"0".repeat(32)}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, "LATHE_NOT_FOUND");

  const noExperiment = await raw("/api/v1/runs?experiment=999");
  assert.equal(noExperiment.status, 404);
});
