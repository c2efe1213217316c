import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import { repro } from "../../daemon/src/services/repro";
import type { LockFile } from "../../daemon/src/pipeline/lock";
import { createRun, getRun, listRuns } from "../../daemon/src/store/runs";
import { removeDir, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// A two-stage pipeline whose stages are tiny node scripts: `make` writes out.txt from in.txt and
// the `make.n` param; `report` reads out.txt and writes metrics plus a step series.
const pipeline = `
stages:
  make:
    cmd: node make.js
    deps: [make.js, in.txt]
    params: [make.n]
    outs: [out.txt]
  report:
    cmd: node report.js
    deps: [report.js, out.txt]
    params: [report.label]
    metrics: [metrics.json]
    plots: [history.csv]
  side:
    cmd: node -e "require('fs').writeFileSync('side.txt', 'x')"
    outs: [side.txt]
`;

const files = {
  "lathe.yaml": pipeline,
  "params.yaml": "make:\n  n: 2\nreport:\n  label: first\n",
  "in.txt": "hello",
  "make.js": `const fs = require("fs");
const n = Number(/n: (\\d+)/.exec(fs.readFileSync("params.yaml", "utf8"))[1]);
fs.writeFileSync("out.txt", fs.readFileSync("in.txt", "utf8").repeat(n));`,
  "report.js": `const fs = require("fs");
const text = fs.readFileSync("out.txt", "utf8");
fs.writeFileSync("metrics.json", JSON.stringify({ length: text.length, nested: { ratio: 0.5 }, odd: "NaN" }));
fs.writeFileSync("history.csv", "step,loss\\n0,1\\n1,0.25\\n2,0.125\\n");`,
};

let root: string;
let ctx: Context;

before(async () => {
  root = await tempDir("lathe-pipeline-");
  writeFiles(root, files);
  ctx = openContext(root, { quiet: true });
});

after(async () => {
  closeContext(ctx);
  await removeDir(root);
});

const statuses = (r: { stages: { stage: string; status: string }[] }) =>
  Object.fromEntries(r.stages.map((s) => [s.stage, s.status]));

let firstRuns: Record<string, string | null> = {};

test("a first repro runs every stage and writes lathe.lock", async () => {
  const result = await repro(ctx, { api: undefined });
  firstRuns = Object.fromEntries(result.stages.map((s) => [s.stage, s.runId]));
  assert.equal(result.ok, true);
  assert.deepEqual(statuses(result), { make: "ran", report: "ran", side: "ran" });
  assert.equal(readFileSync(join(root, "out.txt"), "utf8"), "hellohello");

  const lock = parse(readFileSync(join(root, "lathe.lock"), "utf8")) as LockFile;
  const make = lock.stages.make!;
  assert.equal(make.cmd, "node make.js");
  assert.deepEqual(make.params, { "params.yaml": { "make.n": 2 } });
  assert.equal(make.outs[0]!.path, "out.txt");
  assert.match(make.outs[0]!.oid, /^[0-9a-f]{64}$/);
});

test("a second repro skips every stage as up to date, naming the runs that produced them", async () => {
  const result = await repro(ctx);
  assert.deepEqual(statuses(result), { make: "skipped", report: "skipped", side: "skipped" });
  assert.ok(result.stages.every((s) => s.reason === "up to date"));
  assert.deepEqual(Object.fromEntries(result.stages.map((s) => [s.stage, s.runId])), firstRuns);
  assert.equal(getRun(ctx.db, result.parentRunId).status, "SKIPPED");
});

test("a changed param re-runs its stage and the dependants only", async () => {
  writeFileSync(join(root, "params.yaml"), "make:\n  n: 3\nreport:\n  label: first\n");
  const result = await repro(ctx);
  assert.deepEqual(statuses(result), { make: "ran", report: "ran", side: "skipped" });
  assert.equal(result.stages[0]!.reason, "param make.n changed");
  assert.equal(result.stages[1]!.reason, "dep out.txt changed");
});

test("a param of a downstream stage re-runs that stage alone", async () => {
  writeFileSync(join(root, "params.yaml"), "make:\n  n: 3\nreport:\n  label: second\n");
  const result = await repro(ctx);
  assert.deepEqual(statuses(result), { make: "skipped", report: "ran", side: "skipped" });
});

test("a changed dep file re-runs", async () => {
  writeFileSync(join(root, "in.txt"), "bye");
  const result = await repro(ctx);
  assert.deepEqual(statuses(result), { make: "ran", report: "ran", side: "skipped" });
  assert.equal(result.stages[0]!.reason, "dep in.txt changed");
});

test("a deleted out comes back from the run cache, and re-runs with --force", async () => {
  rmSync(join(root, "side.txt"));
  const result = await repro(ctx);
  assert.deepEqual(statuses(result), { make: "skipped", report: "skipped", side: "restored" });
  assert.equal(
    result.stages[2]!.reason,
    `restored from run cache (run ${firstRuns.side!.slice(0, 8)})`,
  );
  assert.match(getRun(ctx.db, result.stages[2]!.runId!).log, /out side.txt is missing; restored/);
  assert.ok(existsSync(join(root, "side.txt")));

  rmSync(join(root, "side.txt"));
  const forced = await repro(ctx, { stages: ["side"], force: true });
  assert.deepEqual(statuses(forced), { side: "ran" });
});

test("--force and stage selection run the named stage and its upstream", async () => {
  const result = await repro(ctx, { stages: ["report"], force: true });
  assert.deepEqual(statuses(result), { make: "ran", report: "ran" });
  await assert.rejects(repro(ctx, { stages: ["nope"] }), /No stage 'nope'.*make, report, side/);
});

test("runs keep params, metrics with a step series, files and a parent", async () => {
  const result = await repro(ctx, { stages: ["report"], force: true });
  const report = getRun(ctx.db, result.stages[1]!.runId!);
  assert.equal(report.status, "FINISHED");
  assert.equal(report.stage, "report");
  assert.equal(report.parentId, result.parentRunId);
  assert.equal(report.exitCode, 0);
  assert.equal(report.command, "node report.js");
  assert.match(report.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(report.params, { "report.label": "second" });
  assert.equal(report.metrics.length!.value, 9); // "bye" three times
  assert.equal(report.metrics["nested.ratio"]!.value, 0.5);
  assert.equal(report.metrics.odd!.value, null);
  assert.equal(report.metrics.odd!.text, "NaN");
  assert.equal(report.metrics.loss!.value, 0.125);
  assert.equal(report.metrics.loss!.step, 2);
  assert.deepEqual(
    report.inputs.map((f) => f.path),
    ["out.txt", "report.js"],
  );
  assert.deepEqual(
    report.outputs.map((f) => f.path),
    ["history.csv", "metrics.json"],
  );
  const children = listRuns(ctx.db, { parentId: result.parentRunId });
  assert.deepEqual(children.map((r) => r.stage).sort(), ["make", "report"]);
  assert.equal(children[0]!.experimentName, root.split("/").pop());
  const history = ctx.db
    .prepare("SELECT step, value FROM metrics WHERE run_id = ? AND key = 'loss' ORDER BY step")
    .all(report.id);
  assert.deepEqual(history, [
    { step: 0, value: 1 },
    { step: 1, value: 0.25 },
    { step: 2, value: 0.125 },
  ]);
});

test("a failing stage is FAILED with its stderr kept; dependants do not run", async () => {
  writeFileSync(
    join(root, "make.js"),
    `console.log("some stdout"); console.error("boom: bad input line 3"); process.exit(3);`,
  );
  const result = await repro(ctx);
  assert.equal(result.ok, false);
  assert.deepEqual(statuses(result), { make: "failed", report: "not-run", side: "skipped" });
  assert.equal(result.stages[0]!.reason, "exit 3");
  const run = getRun(ctx.db, result.stages[0]!.runId!);
  assert.equal(run.status, "FAILED");
  assert.equal(run.exitCode, 3);
  assert.match(run.log, /some stdout/);
  assert.match(run.log, /boom: bad input line 3/);
  assert.match(run.error!, /boom: bad input line 3/);
  assert.equal(getRun(ctx.db, result.parentRunId).status, "FAILED");
  // The lock keeps the last good entry of the failed stage.
  const lock = parse(readFileSync(join(root, "lathe.lock"), "utf8")) as LockFile;
  assert.ok(lock.stages.make);
});

test("a repro marks runs left RUNNING by a repro that died as FAILED", async () => {
  const experimentId = listRuns(ctx.db)[0]!.experimentId;
  const parentId = createRun(ctx.db, { experimentId, name: "repro" });
  const childId = createRun(ctx.db, { experimentId, name: "make", parentId, stage: "make" });
  await repro(ctx, { stages: ["side"] });
  assert.equal(getRun(ctx.db, parentId).status, "FAILED");
  assert.match(getRun(ctx.db, childId).error!, /^interrupted/);
});
