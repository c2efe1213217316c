import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { removeDir, runCli, tempDir } from "../helpers";

interface DemoSummary {
  workspace: string;
  runId: string;
  metrics: Record<string, number | null>;
  model: string;
  version: number;
  url: string;
  predictions: { truth: string; predicted: string }[];
}

test("the demo runs add, repro, register, deploy and predict on the weather data", async () => {
  const dir = await tempDir("lathe-demo-test-");
  const result = await runCli(["--json", "demo", "--dir", dir], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(result.code, 0, result.stderr);

  const summary = JSON.parse(result.stdout) as DemoSummary;
  assert.match(summary.runId, /^[0-9a-f]{32}$/);
  assert.equal(summary.model, "weather-model");
  assert.equal(summary.version, 1);
  assert.match(summary.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok((summary.metrics.accuracy ?? 0) > 0.6, `accuracy ${summary.metrics.accuracy}`);
  assert.equal(summary.predictions.length, 5);
  const labels = ["drizzle", "fog", "rain", "snow", "sun"];
  for (const p of summary.predictions) {
    assert.ok(labels.includes(p.predicted), `prediction '${p.predicted}'`);
    assert.ok(labels.includes(p.truth), `truth '${p.truth}'`);
  }

  // Without --keep nothing is left running: the daemon removed its discovery file on exit.
  assert.equal(existsSync(join(summary.workspace, ".lathe", "daemon.json")), false);
  await removeDir(dir);
});

test("unknown verbs and missing arguments are usage errors with exit code 2", async () => {
  const dir = await tempDir();
  const unknown = await runCli(["frobnicate"], { cwd: dir });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);

  const missing = await runCli(["hash"], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing required argument/);
  await removeDir(dir);
});
