/**
 * Live metrics (#3): a real stage appends rows to its plots and metrics tables and JSON Lines,
 * and rewrites JSON/YAML metrics files, with pauses; the daemon must log each complete row and
 * each rewrite while the stage still runs, and the final read must not log any point twice. The
 * stage waits for files the test writes, so "while it runs" is certain.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { MetricHistory, ReproResult, RunSummary } from "../../schemas/api";
import { writeFiles } from "./pipeline-fixtures";
import { trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

// Three epochs, a pause until `go` exists, then two more; `note` has quoted commas and a line
// break; the TSV metrics table has no step column; the last CSV row has no line break.
const trainScript = `const fs = require("fs");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  fs.mkdirSync("metrics", { recursive: true });
  fs.writeFileSync("metrics/history.csv", "epoch,loss,note,accuracy\\n");
  fs.writeFileSync("metrics/live.tsv", "val_loss\\tval_acc\\n");
  for (let e = 1; e <= 3; e++) {
    fs.appendFileSync("metrics/history.csv", e + "," + (1 / e) + ',"a, b",' + (e / 10) + "\\n");
    fs.appendFileSync("metrics/live.tsv", (2 / e) + "\\t" + (e / 20) + "\\n");
    await sleep(150);
  }
  fs.appendFileSync("metrics/history.csv", '4,0.2,"line one');
  await sleep(400);
  fs.appendFileSync("metrics/history.csv", '\\nline, two",NaN\\n');
  while (!fs.existsSync("go")) await sleep(50);
  fs.appendFileSync("metrics/history.csv", "5,-Infinity,,0.5");
  fs.writeFileSync("model.bin", "m");
})();
`;

let t: TrackingDaemon;

before(async () => {
  t = await trackingDaemon("lathe-live-");
  writeFiles(t.root, {
    "lathe.yaml": `stages:
  train:
    cmd: node train.js
    deps: [train.js]
    outs: [model.bin]
    metrics: [metrics/live.tsv]
    plots: [metrics/history.csv]
`,
    "train.js": trainScript,
  });
});

after(async () => {
  await t.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function history(runId: string, key: string): Promise<MetricHistory> {
  const reply = await t.get(`/api/v1/runs/${runId}/metrics/history`, { key });
  assert.equal(reply.status, 200, reply.text);
  return reply.json as MetricHistory;
}

const values = (h: MetricHistory) => h.points.map((p) => [p.step, p.text ?? p.value]);

test("rows appended to plots and metrics tables become points while the stage runs", async () => {
  const changes: string[] = [];
  const off = t.daemon.ctx.events.on((e) => e.type === "runs/changed" && changes.push(e.runId));
  const repro = t.post("/api/v1/pipeline/repro", {});
  const run = await until("the train run", async () => {
    const runs = (await t.get("/api/v1/runs")).json as RunSummary[];
    return runs.find((r) => r.name === "train");
  });

  const running = await until("four accuracy points", async () => {
    const h = await history(run.id, "accuracy").catch(() => undefined);
    return h && h.points.length >= 4 ? h : undefined;
  });
  const now = (await t.get(`/api/v1/runs/${run.id}`)).json as RunSummary;
  assert.equal(now.status, "RUNNING");
  assert.equal(existsSync(join(t.root, "go")), false);
  assert.deepEqual(values(running), [
    [1, 0.1],
    [2, 0.2],
    [3, 0.3],
    [4, "NaN"],
  ]);
  assert.deepEqual(values(await history(run.id, "val_loss")), [
    [0, 2],
    [1, 1],
    [2, 2 / 3],
  ]);
  assert.equal(now.metrics.loss?.step, 4, "the quoted cell with a line break did not shift");
  // The stage prints nothing, so besides the run's creation only live metrics announce it.
  assert.ok(changes.filter((id) => id === run.id).length >= 2, `events: ${changes.join(",")}`);
  off();

  writeFileSync(join(t.root, "go"), "");
  const done = (await repro).json as ReproResult;
  assert.equal(done.stages[0]?.status, "ran", JSON.stringify(done));

  assert.deepEqual(values(await history(run.id, "loss")), [
    [1, 1],
    [2, 0.5],
    [3, 1 / 3],
    [4, 0.2],
    [5, "-Infinity"],
  ]);
  assert.deepEqual(values(await history(run.id, "accuracy")).slice(3), [
    [4, "NaN"],
    [5, 0.5],
  ]);
  assert.equal((await history(run.id, "val_acc")).points.length, 3, "no row logged twice");
  const notes = await t.get(`/api/v1/runs/${run.id}/metrics/history`, { key: "note" });
  assert.equal(notes.status, 404, "text cells are not metrics");
});

test("a table rewritten from its header is read again without logging its rows twice", async () => {
  writeFiles(t.root, {
    "train.js": `const fs = require("fs");
fs.mkdirSync("metrics", { recursive: true });
fs.writeFileSync("metrics/history.csv", "step,loss\\n0,3\\n1,2\\n");
setTimeout(() => {
  fs.writeFileSync("metrics/history.csv", "step,loss\\n0,3\\n1,2\\n2,1\\n");
  fs.writeFileSync("metrics/live.tsv", "x\\n1\\n");
  fs.writeFileSync("model.bin", "m2");
}, 600);
`,
  });
  const done = (await t.post("/api/v1/pipeline/repro", {})).json as ReproResult;
  const runId = done.stages[0]!.runId!;
  assert.deepEqual(values(await history(runId, "loss")), [
    [0, 3],
    [1, 2],
    [2, 1],
  ]);
});

test("JSON Lines are followed a line at a time; a JSON or YAML metrics file each time it is rewritten", async () => {
  // Each write waits for the test to have seen it (ack files), so no rewrite is missed by timing.
  writeFiles(t.root, {
    "lathe.yaml": `stages:
  train:
    cmd: node train.js
    deps: [train.js]
    outs: [model.bin]
    metrics: [m/dvclive.json, m/summary.yaml, m/log.jsonl]
`,
    "train.js": `const fs = require("fs");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ack = async (name) => { while (!fs.existsSync(name)) await sleep(25); };
(async () => {
  fs.mkdirSync("m", { recursive: true });
  for (let s = 0; s < 3; s++) {
    fs.writeFileSync("m/dvclive.json", JSON.stringify({ step: s, train: { loss: 1 / (s + 1) } }, null, 2));
    fs.appendFileSync("m/log.jsonl", JSON.stringify({ epoch: s, acc: s / 10 }) + "\\n");
    await ack("ack" + s);
  }
  for (const [i, best] of [0.5, 0.7, 0.5].entries()) {
    fs.writeFileSync("m/summary.yaml", "best: " + best + "\\n");
    await ack("best" + i);
  }
  fs.appendFileSync("m/log.jsonl", '{"epoch": 3, "acc": NaN}');
  fs.writeFileSync("model.bin", "m3");
})();
`,
  });
  const repro = t.post("/api/v1/pipeline/repro", {});
  const run = await until("the train run", async () => {
    const runs = (await t.get("/api/v1/runs")).json as RunSummary[];
    return runs.find((r) => r.name === "train" && r.status === "RUNNING");
  });
  const steps = async (key: string) =>
    (await history(run.id, key).catch(() => undefined))?.points.map((p) => p.step) ?? [];
  for (let s = 0; s < 3; s++) {
    await until(`step ${s} of train.loss and acc`, async () =>
      (await steps("train.loss")).includes(s) && (await steps("acc")).includes(s)
        ? true
        : undefined,
    );
    writeFileSync(join(t.root, `ack${s}`), "");
  }
  for (let i = 0; i < 3; i++) {
    await until(`rewrite ${i} of summary.yaml`, async () =>
      (await steps("best")).length > i ? true : undefined,
    );
    const now = (await t.get(`/api/v1/runs/${run.id}`)).json as RunSummary;
    assert.equal(now.status, "RUNNING");
    assert.equal(now.metrics.best?.value, [0.5, 0.7, 0.5][i], "the latest value follows the file");
    writeFileSync(join(t.root, `best${i}`), "");
  }

  const done = (await repro).json as ReproResult;
  assert.equal(done.stages[0]?.status, "ran", JSON.stringify(done));
  assert.deepEqual(values(await history(run.id, "train.loss")), [
    [0, 1],
    [1, 0.5],
    [2, 1 / 3],
  ]);
  assert.deepEqual(values(await history(run.id, "acc")), [
    [0, 0],
    [1, 0.1],
    [2, 0.2],
    [3, "NaN"],
  ]);
  assert.deepEqual(values(await history(run.id, "best")), [
    [0, 0.5],
    [0, 0.7],
    [0, 0.5],
  ]);
  const final = (await t.get(`/api/v1/runs/${run.id}`)).json as RunSummary;
  assert.equal(final.metrics.best?.value, 0.5);
});
