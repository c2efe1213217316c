// The Pipelines view's stage states, from real daemon answers: a workspace is reproduced with the
// real engine, then its dag, status and runs go through stageViews as the view's calls get them.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { PipelineDag, PipelineStatus, RunSummary } from "../../schemas/api";
import { stageViews } from "../../extension/src/pipelines/stageState";
import { daemonIn, removeDir, tempDir } from "../helpers";
import { writeFiles } from "../daemon/pipeline-fixtures";

let root: string;
let daemon: Awaited<ReturnType<typeof daemonIn>>;

before(async () => {
  root = await tempDir("lathe-pipelines-view-");
  writeFiles(root, {
    "lathe.yaml": `stages:
  prepare:
    cmd: node -e "require('fs').writeFileSync('prepared.txt', 'p')"
    outs: [prepared.txt]
  train:
    cmd: node train.js
    deps: [prepared.txt, train.js]
    params: [lr]
    outs: [model.txt]
  report:
    cmd: node -e "require('fs').writeFileSync('report.txt', 'r')"
    deps: [model.txt]
    outs: [report.txt]
  archive:
    cmd: echo never
    frozen: true
`,
    "params.yaml": "lr: 0.1\n",
    "train.js": `require("fs").writeFileSync("model.txt", "m");`,
  });
  daemon = await daemonIn(root);
});

after(async () => {
  await daemon.close();
  await removeDir(root);
});

async function views(running: string[] = []) {
  const c = daemon.client;
  const [dag, status, runs] = await Promise.all([
    c.call<PipelineDag>("GET", "/api/v1/pipeline/dag"),
    c.call<PipelineStatus>("GET", "/api/v1/pipeline/status"),
    c.call<RunSummary[]>("GET", "/api/v1/runs?limit=500"),
  ]);
  return stageViews({ dag, status, runs, running: new Set(running) });
}

test("before any run: DAG order, stale with the reason, frozen stays frozen", async () => {
  const v = await views();
  assert.deepEqual(
    v.map((s) => [s.name, s.state, s.description]),
    [
      ["prepare", "stale", "never ran (no lock entry)"],
      ["train", "stale", "never ran (no lock entry) (+1 more)"],
      ["report", "stale", "never ran (no lock entry) (+1 more)"],
      ["archive", "frozen", "frozen"],
    ],
  );
  assert.equal(v[1]!.line, 5);
  assert.match(v[1]!.tooltip, /- upstream stage 'prepare' is stale/);
  assert.equal(v[0]!.lastRunId, null);
});

test("after a repro: up to date with the last run; a live running event wins", async () => {
  await daemon.client.call("POST", "/api/v1/pipeline/repro", {});
  const v = await views(["train"]);
  assert.deepEqual(
    v.map((s) => s.state),
    ["up-to-date", "running", "up-to-date", "frozen"],
  );
  assert.ok(v[0]!.lastRunId);
  assert.match(v[2]!.tooltip, /Last run [0-9a-f]{8}: FINISHED/);
});

test("a failing stage is failed with its exit code until it runs again; its dependant is stale", async () => {
  writeFileSync(join(root, "train.js"), "process.exit(3);");
  await daemon.client.call("POST", "/api/v1/pipeline/repro", {});
  const v = await views();
  const train = v.find((s) => s.name === "train")!;
  assert.equal(train.state, "failed");
  assert.equal(train.description, "failed (exit 3)");
  assert.equal(v.find((s) => s.name === "report")!.state, "stale");

  writeFileSync(join(root, "train.js"), `require("fs").writeFileSync("model.txt", "m2");`);
  await daemon.client.call("POST", "/api/v1/pipeline/repro", {});
  assert.deepEqual(
    (await views()).map((s) => s.state),
    ["up-to-date", "up-to-date", "up-to-date", "frozen"],
  );
});
