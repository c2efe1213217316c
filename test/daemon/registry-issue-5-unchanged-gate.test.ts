/**
 * Regression (#5): a gate on a candidate whose bytes a version already holds (registered by hand
 * from the train run) judged that version's stored metrics — the training accuracy — instead of
 * the metrics of this repro's `metrics:` stages, so `lathe repro` passed a gate the evaluate stage
 * fails. Runs the built CLI on a two-stage pipeline whose train and evaluate stages write
 * different accuracies.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ModelVersion, ReproResult } from "../../schemas/api";
import { linearSoftmaxModel } from "../fixtures/onnx";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

const STAGES = `stages:
  train:
    cmd: node train.js
    deps: [src.onnx, train.js]
    outs: [model.onnx]
    metrics: [train.json]
  evaluate:
    cmd: node eval.js
    deps: [model.onnx, eval.js]
    metrics: [eval.json]
`;

let root = "";
const lathe = (...args: string[]) => runCli(args, { cwd: root });

/** lathe.yaml with a `models:` entry gating `accuracy >= 0.78`, with `metrics` when given. */
function writeGate(metrics: string): void {
  writeFileSync(
    join(root, "lathe.yaml"),
    `${STAGES}models:\n  tiny:\n    from: train\n${metrics}    gate: [accuracy >= 0.78]\n`,
  );
}

before(async () => {
  root = await tempDir("lathe-gate-unchanged-");
  writeFileSync(join(root, "src.onnx"), linearSoftmaxModel());
  writeFiles(root, {
    "lathe.yaml": STAGES,
    "train.js": `const fs = require("fs");\nfs.copyFileSync("src.onnx", "model.onnx");\nfs.writeFileSync("train.json", JSON.stringify({ accuracy: 0.788 }));\n`,
    "eval.js": `require("fs").writeFileSync("eval.json", JSON.stringify({ accuracy: 0.767 }));\n`,
  });
});

after(async () => {
  await removeDir(root);
});

test("a gate on bytes registered by hand judges this repro's evaluate metrics, not the stored ones", async () => {
  const first = await lathe("--json", "repro");
  assert.equal(first.code, 0, first.stderr);
  const train = (JSON.parse(first.stdout) as ReproResult).stages.find((s) => s.stage === "train");
  const byHand = await lathe("--json", "models", "register", "tiny", "--from", train!.runId!);
  assert.equal(byHand.code, 0, byHand.stderr);
  assert.deepEqual((JSON.parse(byHand.stdout) as ModelVersion).metrics, { accuracy: 0.788 });

  writeGate("    metrics: [evaluate]\n");
  const gated = await lathe("repro");
  assert.equal(gated.code, 1, gated.stderr + gated.stdout);
  assert.match(
    gated.stderr,
    /tiny v1: gate failed: 'accuracy >= 0\.78' \(accuracy 0\.767 < 0\.78\)/,
  );
  const shown = JSON.parse(
    (await lathe("--json", "models", "show", "tiny@1")).stdout,
  ) as ModelVersion;
  assert.equal(shown.gate?.passed, false);
  assert.equal(shown.gate?.conditions[0]?.actual, 0.767);
  assert.deepEqual(shown.metrics, { accuracy: 0.788 }, "a version's metrics stay as registered");
});

test("a stored gate result is not reused when this repro's metrics for it differ", async () => {
  // Gated on the train stage alone, the same bytes pass: 0.788 >= 0.78.
  writeGate("");
  const trainOnly = await lathe("repro");
  assert.equal(trainOnly.code, 0, trainOnly.stderr + trainOnly.stdout);
  assert.match(trainOnly.stdout, /tiny v1: gate passed \(1 condition\)/);

  // The same written gate with the evaluate stage's metrics again: not the stored pass.
  writeGate("    metrics: [evaluate]\n");
  const evaluated = await lathe("repro");
  assert.equal(evaluated.code, 1, evaluated.stderr + evaluated.stdout);
  assert.match(evaluated.stderr, /\(accuracy 0\.767 < 0\.78\)/);

  // Nothing changed since: the stored result stands, and CI gets the same exit code.
  const again = await lathe("repro");
  assert.equal(again.code, 1, again.stderr + again.stdout);
  assert.match(again.stdout, /GATE +tiny v1: gate failed.*\(same bytes as before\)/);
});
