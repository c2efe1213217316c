import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import type { LockFile } from "../../daemon/src/pipeline/lock";
import { repro } from "../../daemon/src/services/repro";
import { getRun, runTags } from "../../daemon/src/store/runs";
import { removeDir, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// `train` appends a line to calls.log (not an out) each time its command really runs, so the
// test can tell a run from a restore. `grow` keeps a persistent out; `fresh` checks that its
// out was removed before it ran.
const files = {
  "lathe.yaml": `
stages:
  train:
    cmd: node train.js
    deps: [train.js]
    params: [train.seed]
    outs: [model/]
    metrics: [metrics.json]
  grow:
    cmd: node -e "require('fs').appendFileSync('grow.txt', 'line\\n')"
    outs: [{grow.txt: {persist: true}}]
  fresh:
    cmd: node fresh.js
    outs: [fresh.txt]
`,
  "params.yaml": "train:\n  seed: 1\n",
  "train.js": `const fs = require("fs");
const seed = Number(/seed: (\\d+)/.exec(fs.readFileSync("params.yaml", "utf8"))[1]);
fs.appendFileSync("calls.log", "seed " + seed + "\\n");
fs.mkdirSync("model", { recursive: true });
fs.writeFileSync("model/weights.txt", "w" + seed);
fs.writeFileSync("metrics.json", JSON.stringify({ score: seed / 10 }));`,
  "fresh.js": `const fs = require("fs");
fs.appendFileSync("fresh.log", fs.existsSync("fresh.txt") ? "existed\\n" : "absent\\n");
fs.writeFileSync("fresh.txt", "x");`,
};

let root: string;
let ctx: Context;
const read = (path: string) => readFileSync(join(root, path), "utf8");
const setSeed = (seed: number) =>
  writeFileSync(join(root, "params.yaml"), `train:\n  seed: ${seed}\n`);
const statusOf = (r: { stages: { stage: string; status: string }[] }, stage: string) =>
  r.stages.find((s) => s.stage === stage)!.status;

before(async () => {
  root = await tempDir("lathe-cache-");
  writeFiles(root, files);
  ctx = openContext(root, { quiet: true });
});

after(async () => {
  closeContext(ctx);
  await removeDir(root);
});

test("a param changed and changed back restores the outputs without running the command", async () => {
  const first = await repro(ctx);
  const firstTrain = first.stages.find((s) => s.stage === "train")!;
  setSeed(2);
  assert.equal(statusOf(await repro(ctx), "train"), "ran");
  assert.equal(read("model/weights.txt"), "w2");

  setSeed(1);
  const back = await repro(ctx);
  const train = back.stages.find((s) => s.stage === "train")!;
  assert.equal(train.status, "restored");
  assert.equal(train.reason, `restored from run cache (run ${firstTrain.runId!.slice(0, 8)})`);
  assert.equal(read("calls.log"), "seed 1\nseed 2\n"); // the command ran twice, not three times
  assert.equal(read("model/weights.txt"), "w1");
  assert.equal(read("metrics.json"), JSON.stringify({ score: 0.1 }));

  const run = getRun(ctx.db, train.runId!);
  assert.equal(run.status, "FINISHED");
  assert.equal(run.metrics.score!.value, 0.1);
  assert.deepEqual(run.params, { "train.seed": "1" });
  assert.deepEqual(runTags(ctx.db, run.id), { "lathe.restoredFrom": firstTrain.runId });
  assert.match(run.log, /param train\.seed changed; restored from run cache .*did not run/);
  const lock = parse(read("lathe.lock")) as LockFile;
  assert.deepEqual(lock.stages.train!.params, { "params.yaml": { "train.seed": 1 } });
  assert.equal(statusOf(await repro(ctx), "train"), "skipped");
});

test("a persist out is kept across runs and never restored; other outs are removed first", async () => {
  assert.equal(read("grow.txt"), "line\n");
  assert.equal(read("fresh.log"), "absent\n");
  const forced = await repro(ctx, { stages: ["grow", "fresh"], force: true });
  assert.deepEqual(
    forced.stages.map((s) => s.status),
    ["ran", "ran"],
  );
  assert.equal(read("grow.txt"), "line\nline\n");
  assert.equal(read("fresh.log"), "absent\nabsent\n");

  // grow's out is not restorable (persist): deleting it runs the stage again.
  writeFileSync(join(root, "grow.txt"), "edited\n");
  const again = await repro(ctx, { stages: ["grow"] });
  assert.equal(statusOf(again, "grow"), "ran");
  assert.equal(read("grow.txt"), "edited\nline\n");
  assert.ok(existsSync(join(root, "fresh.txt")));
});
