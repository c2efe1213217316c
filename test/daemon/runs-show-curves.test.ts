/**
 * `lathe runs show` draws each metric's curve (#3): a sparkline from the server-side downsampled
 * history with first/min/max/last and the point count, and under --json the downsampled points.
 * Run through the real CLI, whose stdout is a pipe (not a TTY), with NO_COLOR set.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MetricHistoryPoint, ReproResult } from "../../schemas/api";
import type { RunShown } from "../../daemon/src/cli/commands/run-show";
import { sparkline } from "../../daemon/src/cli/sparkline";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// 1,000 steps: loss falls from 1 with one spike to 5 at step 500; acc climbs; val has 5 points
// and a NaN; f1 is a single value.
const trainScript = `const fs = require("fs");
const rows = ["step,loss,acc"];
for (let s = 0; s < 1000; s++) rows.push(s + "," + (s === 500 ? 5 : 1 / (1 + s / 50)) + "," + s / 1000);
fs.writeFileSync("history.csv", rows.join("\\n") + "\\n");
fs.writeFileSync("val.csv", "step,val\\n1,0.5\\n2,0.4\\n3,NaN\\n4,0.3\\n5,0.2\\n");
fs.writeFileSync("m.json", JSON.stringify({ f1: 0.8 }));
`;

let root: string;
let runId: string;

before(async () => {
  root = await tempDir("lathe-runs-show-");
  writeFiles(root, {
    "lathe.yaml": `stages:
  train:
    cmd: node train.js
    metrics: [m.json]
    plots: [history.csv, val.csv]
`,
    "train.js": trainScript,
  });
  const repro = await runCli(["--json", "repro"], { cwd: root });
  assert.equal(repro.code, 0, repro.stderr);
  runId = (JSON.parse(repro.stdout) as ReproResult).stages[0]!.runId!;
});

after(async () => {
  await removeDir(root);
});

const BLOCKS = "▁▂▃▄▅▆▇█";

test("runs show draws a curve per metric with first, min, max, last and the count", async () => {
  const show = await runCli(["runs", "show", runId.slice(0, 8)], {
    cwd: root,
    env: { NO_COLOR: "1" },
  });
  assert.equal(show.code, 0, show.stderr);
  assert.doesNotMatch(show.stdout, /\x1b\[/, "no escape sequences");
  const lines = show.stdout.split("\n");
  const curveAfter = (latest: RegExp) => {
    const at = lines.findIndex((l) => latest.test(l));
    assert.ok(at >= 0, `no line ${latest} in:\n${show.stdout}`);
    return lines[at + 1]!;
  };

  const loss = curveAfter(/^  loss = 0\.04766/);
  const lossMatch =
    /^    ([▁▂▃▄▅▆▇█·]+)  first 1, min (\S+), max 5, last (\S+) \(1000 points\)$/.exec(loss);
  assert.ok(lossMatch, loss);
  const lossCurve = [...lossMatch[1]!];
  assert.equal(lossCurve.length, 40);
  // The spike at step 500 is the tallest column, where it falls (500 of 1,000 steps: column 20).
  assert.equal(lossCurve[20], "█", loss);
  assert.equal(lossCurve.filter((c) => c === "█").length, 1, loss);
  assert.equal(lossCurve[39], "▁", loss);
  assert.equal(lossMatch[2], lossMatch[3], "the last loss is the lowest");

  const acc = curveAfter(/^  acc = 0\.999/);
  const accMatch = /^    (\S+)  first 0, min 0, max 0\.999, last 0\.999 \(1000 points\)$/.exec(acc);
  assert.ok(accMatch, acc);
  const levels = [...accMatch[1]!].map((c) => BLOCKS.indexOf(c));
  assert.equal(levels.length, 40);
  assert.deepEqual(
    levels,
    [...levels].sort((a, b) => a - b),
    "a rising metric never dips",
  );
  assert.equal(levels[0], 0);
  assert.equal(levels[39], 7);

  // Five points: one column each, the NaN off the scale; min and max leave the NaN out.
  const val = curveAfter(/^  val = 0\.2$/);
  assert.equal(val, "    █▆·▃▁  first 0.5, min 0.2, max 0.5, last 0.2 (5 points)");

  // One point has no curve: the next line is the next metric or section, not a curve.
  const f1 = curveAfter(/^  f1 = 0\.8$/);
  assert.doesNotMatch(f1, /points\)$/);
});

test("runs show --json includes each metric's downsampled points", async () => {
  const show = await runCli(["--json", "runs", "show", runId], { cwd: root });
  assert.equal(show.code, 0, show.stderr);
  const run = JSON.parse(show.stdout) as RunShown;
  assert.deepEqual(Object.keys(run.histories).sort(), ["acc", "f1", "loss", "val"]);
  const loss = run.histories.loss!;
  assert.equal(loss.total, 1000);
  assert.equal(loss.downsampled, true);
  assert.ok(loss.points.length <= 200 && loss.points.length >= 80, String(loss.points.length));
  assert.deepEqual([loss.points[0]!.step, loss.points.at(-1)!.step], [0, 999], "the ends are kept");
  assert.ok(
    loss.points.some((p) => p.step === 500 && p.value === 5),
    "the spike is kept",
  );
  assert.deepEqual(
    run.histories.val!.points.map((p) => p.text ?? p.value),
    [0.5, 0.4, "NaN", 0.3, 0.2],
  );
  assert.deepEqual(
    run.histories.f1!.points.map((p) => p.value),
    [0.8],
  );
  // The run's own fields are all still there.
  assert.equal(run.id, runId);
  assert.equal(run.metrics.f1!.value, 0.8);
});

const at = (step: number, value: number | null, text?: MetricHistoryPoint["text"]) => ({
  step,
  timestamp: 0,
  value,
  ...(text ? { text } : {}),
});

test("sparkline: a flat curve sits mid-height, a gap in the steps is blank", () => {
  assert.equal(sparkline([at(0, 2), at(1, 2), at(2, 2)]), "▄▄▄");
  assert.equal(sparkline([at(0, null, "Infinity"), at(1, 1)]), "·▄");
  // 50 points over steps 0..99 with steps 40..79 missing: those columns stay blank.
  const points = [...Array(100).keys()].filter((s) => s < 40 || s >= 80).map((s) => at(s, s));
  const curve = sparkline(points, 10);
  assert.equal(curve.length, 10);
  assert.equal(curve.slice(4, 8), "    ");
  assert.equal(curve[0], "▁");
  assert.equal(curve[9], "█");
  assert.equal(sparkline([]), "");
});
