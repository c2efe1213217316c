import assert from "node:assert/strict";
import { test } from "node:test";
import type { RunSummary } from "../../schemas/api";
import { SseParser } from "../../extension/src/daemon/eventStream";
import {
  formatDuration,
  formatNumber,
  headline,
  runDescription,
  runPickItem,
} from "../../extension/src/runs/format";

function run(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: "0123456789abcdef0123456789abcdef",
    experimentId: "1",
    experimentName: "weather",
    name: "evaluate",
    parentId: "p",
    stage: "evaluate",
    status: "FINISHED",
    startTime: 1_000_000,
    endTime: 1_003_000,
    exitCode: 0,
    command: "node src/evaluate.js",
    gitCommit: null,
    gitDirty: null,
    params: {},
    metrics: {},
    tags: {},
    lifecycleStage: "active",
    ...over,
  };
}

const metric = (key: string, value: number | null, text?: string) => ({
  key,
  value,
  text,
  step: 0,
  timestamp: 0,
});

void test("numbers read short in descriptions", () => {
  assert.equal(formatNumber(0.81234), "0.812");
  assert.equal(formatNumber(12.345), "12.35");
  assert.equal(formatNumber(3), "3");
  assert.equal(formatNumber(0.0001234), "0.000123");
});

void test("durations", () => {
  assert.equal(formatDuration(400), "0.4s");
  assert.equal(formatDuration(3000), "3s");
  assert.equal(formatDuration(42_400), "42s");
  assert.equal(formatDuration(125_000), "2m 05s");
  assert.equal(formatDuration(3_720_000), "1h 02m");
});

void test("the headline metric is the setting's, else the first, NaN kept as text", () => {
  const metrics = { f1: metric("f1", 0.5), accuracy: metric("accuracy", 0.8123) };
  assert.deepEqual(headline(metrics, "accuracy"), ["accuracy", "0.812"]);
  assert.deepEqual(headline(metrics, "loss"), ["f1", "0.5"]);
  assert.deepEqual(headline({ loss: metric("loss", null, "NaN") }, "accuracy"), ["loss", "NaN"]);
  assert.deepEqual(headline({ accuracy: 0.9 }, "accuracy"), ["accuracy", "0.9"]);
  assert.equal(headline({}, "accuracy"), undefined);
});

void test("run descriptions by status", () => {
  const metrics = { accuracy: metric("accuracy", 0.812) };
  assert.equal(runDescription(run({ metrics }), "accuracy"), "accuracy 0.812 · 3s");
  assert.equal(
    runDescription(run({ status: "FAILED", exitCode: 1 }), "accuracy"),
    "failed (exit 1) · 3s",
  );
  assert.equal(
    runDescription(run({ status: "RUNNING", endTime: null }), "accuracy", 1_001_000),
    "running… · 1s",
  );
  assert.equal(runDescription(run({ status: "SKIPPED", metrics }), "accuracy"), "skipped");
});

void test("server-sent events split across chunks", () => {
  const seen: string[] = [];
  const parser = new SseParser((data) => seen.push(data));
  parser.push(': connected\n\ndata: {"type":"runs/cha');
  parser.push(
    'nged","runId":"a"}\n\ndata: {"type":"models/changed","model":"m"}\r\n\r\n: ping\n\n',
  );
  assert.deepEqual(
    seen.map((d) => (JSON.parse(d) as { type: string }).type),
    ["runs/changed", "models/changed"],
  );
});

test("a run's quick-pick row names it, describes it as the tree does and says where it ran", () => {
  const r = run();

  const item = runPickItem(r, "accuracy");

  assert.equal(item.label, r.name);
  assert.equal(item.description, runDescription(r, "accuracy"));
  assert.match(item.detail, new RegExp(`^${r.experimentName} · .* · ${r.id}$`));
  assert.equal(item.run, r);
});
