import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { closeContext, openContext } from "../../daemon/src/context";
import { TailBuffer, runCommand } from "../../daemon/src/pipeline/exec";
import { readMetricsFile, readPlotSeries } from "../../daemon/src/pipeline/metrics";
import { repro } from "../../daemon/src/services/repro";
import { getRun } from "../../daemon/src/store/runs";
import { removeDir, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

test("stdout and stderr land in one log; stderr also in its own tail", async () => {
  const result = await runCommand({
    cmd: "echo out; echo err >&2; exit 4",
    cwd: process.cwd(),
    env: process.env,
  });
  assert.equal(result.exitCode, 4);
  assert.match(result.log, /out/);
  assert.match(result.log, /err/);
  assert.equal(result.stderrTail.trim(), "err");
});

test("aborting kills the whole process group, not just the shell", async () => {
  const abort = new AbortController();
  const started = Date.now();
  const running = runCommand({
    // The background sleep would keep the pipes open if only `sh` were killed.
    cmd: "sleep 30 & sleep 30; wait",
    cwd: process.cwd(),
    env: process.env,
    signal: abort.signal,
  });
  setTimeout(() => abort.abort(), 100);
  const result = await running;
  assert.equal(result.cancelled, true);
  assert.ok(Date.now() - started < 4000, "the group died on SIGTERM");
});

test("the log keeps only the last bytes and says so", () => {
  const buffer = new TailBuffer(10);
  buffer.write(Buffer.from("0123456789"));
  buffer.write(Buffer.from("abcde"));
  assert.match(
    buffer.text(),
    /^\[earlier output dropped: only the last 10 bytes are kept\]\n56789abcde$/,
  );
  assert.equal(buffer.text(false), "56789abcde");
});

test("metrics files flatten nested numbers; plots CSVs give step series", async () => {
  const root = await tempDir("lathe-metrics-");
  writeFiles(root, {
    "m.json": '{"a": 1, "b": {"c": 0.5, "d": "text", "e": [1, 2]}, "f": "Infinity", "g": true}',
    "m.yaml": "x:\n  y: .nan\n",
    "h.csv": "step,loss,label\n0,1.5,a\n1,0.5,b\n",
    "h.json": "[]",
  });
  assert.deepEqual(readMetricsFile(join(root, "m.json")), [
    { key: "a", value: 1, text: null, step: 0 },
    { key: "b.c", value: 0.5, text: null, step: 0 },
    { key: "f", value: null, text: "Infinity", step: 0 },
  ]);
  assert.deepEqual(readMetricsFile(join(root, "m.yaml")), [
    { key: "x.y", value: null, text: "NaN", step: 0 },
  ]);
  assert.deepEqual(readPlotSeries(join(root, "h.csv")), [
    { key: "loss", value: 1.5, text: null, step: 0 },
    { key: "loss", value: 0.5, text: null, step: 1 },
  ]);
  assert.deepEqual(readPlotSeries(join(root, "h.json")), []);
  await removeDir(root);
});

test("cancelling a repro kills the running stage: its run is KILLED, later stages not run", async () => {
  const root = await tempDir("lathe-cancel-");
  writeFiles(root, {
    "lathe.yaml": `stages:
  slow:
    cmd: sleep 30
    outs: [never.txt]
  next:
    cmd: echo next
`,
  });
  const ctx = openContext(root, { quiet: true });
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  const result = await repro(ctx, { signal: abort.signal });
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.stages.map((s) => [s.stage, s.status, s.reason]),
    [
      ["slow", "failed", "cancelled"],
      ["next", "not-run", "cancelled"],
    ],
  );
  assert.equal(getRun(ctx.db, result.stages[0]!.runId!).status, "KILLED");
  assert.equal(getRun(ctx.db, result.parentRunId).status, "KILLED", "the repro run too");
  closeContext(ctx);
  await removeDir(root);
});

test("a running stage's log is written to its run while it runs", async () => {
  const root = await tempDir("lathe-live-");
  writeFiles(root, { "lathe.yaml": "stages:\n  talk:\n    cmd: echo first && sleep 1.6\n" });
  const ctx = openContext(root, { quiet: true });
  const seen: string[] = [];
  ctx.events.on((e) => {
    if (e.type === "runs/changed") {
      const run = getRun(ctx.db, e.runId);
      if (run.stage === "talk" && run.status === "RUNNING") {
        seen.push(run.log);
      }
    }
  });
  const result = await repro(ctx);
  assert.equal(result.ok, true);
  assert.ok(
    seen.some((log) => log.includes("first")),
    "the log was visible during the run",
  );
  closeContext(ctx);
  await removeDir(root);
});
