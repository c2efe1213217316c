/**
 * Gates in lathe.yaml (#5): the `models:` section's parse (errors name lathe.yaml:line:col), the
 * evaluation of conditions on real registered versions, and `lathe repro` on a copy of
 * examples/weather through the built CLI: a reachable threshold registers the model and moves
 * @champion, an impossible one fails with exit 1 and both values, and the result is kept on the
 * version.
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { after, before, test } from "node:test";
import { closeContext, openContext } from "../../daemon/src/context";
import { LatheError } from "../../daemon/src/errors";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import { setAlias } from "../../daemon/src/registry/aliases";
import { evaluateGate } from "../../daemon/src/registry/gates";
import { parseModelsSection } from "../../daemon/src/registry/gates-parse";
import { register } from "../../daemon/src/registry/register";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import type { RegisteredModel, ReproResult } from "../../schemas/api";
import { daemonIn, removeDir, repoRoot, runCli, tempDir } from "../helpers";

const STAGES = `stages:
  train:
    cmd: node train.js
    outs: [model.onnx]
  evaluate:
    cmd: node eval.js
    deps: [model.onnx]
`;

function parse(models: string) {
  const text = `${STAGES}models:\n${models}`;
  return parseModelsSection("lathe.yaml", text, parsePipeline("lathe.yaml", text));
}

function badFile(models: string, line: number, pattern: RegExp): void {
  assert.throws(
    () => parse(models),
    (err: unknown) => {
      assert.ok(err instanceof LatheError);
      assert.equal(err.code, "LATHE_BAD_FILE");
      assert.match(err.message, new RegExp(`^lathe\\.yaml:${line}:\\d+: `));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test("a models: entry parses from, metrics, alias and each kind of condition", () => {
  const [entry] = parse(`  weather-model:
    from: train
    metrics: [evaluate]
    description: daily weather
    alias: champion
    gate:
      - accuracy >= 0.8
      - loss<0.5
      - accuracy >= @champion - 0.01
      - f1 > @challenger.f1_macro + 1e-3
`);
  assert.ok(entry);
  assert.equal(entry.model, "weather-model");
  assert.equal(entry.from, "train");
  assert.deepEqual(entry.metrics, ["evaluate"]);
  assert.equal(entry.alias, "champion");
  assert.equal(entry.where, "lathe.yaml:9:3");
  assert.deepEqual(
    entry.gate.map((c) => [c.metric, c.op, c.rhs]),
    [
      ["accuracy", ">=", { kind: "number", value: 0.8 }],
      ["loss", "<", { kind: "number", value: 0.5 }],
      ["accuracy", ">=", { kind: "alias", alias: "champion", metric: "accuracy", offset: -0.01 }],
      ["f1", ">", { kind: "alias", alias: "challenger", metric: "f1_macro", offset: 0.001 }],
    ],
  );
  assert.equal(entry.gate[2]!.where, "lathe.yaml:17:9");
});

test("models: errors name lathe.yaml:line:col, the field and what was expected", () => {
  badFile(
    "  m:\n    from: train\n    gate:\n      - accuracy >> 0.8\n",
    12,
    /models\.m\.gate\[0\]: 'accuracy >> 0\.8' .*e\.g\. 'accuracy >= 0\.8'/,
  );
  badFile(
    "  m:\n    from: train\n    gate: [accuracy >= high]\n",
    11,
    /compares with 'high', which is neither a number nor @<alias>/,
  );
  badFile(
    "  m:\n    from: train\n    gate: [accuracy >= @champion - x]\n",
    11,
    /adds 'x', which is not a number/,
  );
  badFile(
    "  m:\n    from: trian\n",
    10,
    /models\.m\.from: no stage named 'trian'; stages: train, evaluate/,
  );
  badFile("  m:\n    metrics: [evaluate]\n", 9, /'from' is missing/);
  badFile(
    "  m:\n    from: train\n    colour: red\n",
    11,
    /unknown field 'colour'; valid: from, path/,
  );
  badFile("  m:\n    from: train\n    alias: latest\n", 11, /'latest' is not a valid alias/);
  badFile("  bad name:\n    from: train\n", 9, /'bad name' is not a valid model name/);
  badFile("  - m\n", 9, /models: must be a mapping/);
  badFile(
    "  m:\n    from: evaluate\n",
    10,
    /models\.m: stage 'evaluate' has no \.onnx output; name the file with 'path:' \(its outputs: none\)/,
  );
  badFile(
    "  m:\n    from: train\n    path: other.onnx\n",
    11,
    /models\.m\.path: stage 'train' has no output 'other\.onnx'; its outputs: model\.onnx/,
  );
});

test("a pipeline with a models: section still parses its stages", () => {
  const text = `${STAGES}models:\n  m:\n    from: train\n`;
  assert.deepEqual(
    parsePipeline("lathe.yaml", text).stages.map((s) => s.name),
    ["train", "evaluate"],
  );
});

test("evaluateGate compares with numbers and with the alias's version, with both values", async () => {
  const root = await tempDir("lathe-gate-eval-");
  const ctx = openContext(root, { quiet: true });
  try {
    const version = (accuracy: number | null, bias: number) => {
      const run = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel({ bias: [bias, 0, 0] }), {
        metrics: accuracy === null ? {} : { accuracy },
      });
      return register(ctx, { model: "m", runId: run.runId });
    };
    const [entry] = parse(
      "  m:\n    from: train\n    alias: champion\n    gate:\n      - accuracy >= 0.8\n      - accuracy >= @champion - 0.01\n",
    );
    const v1 = version(0.9, 1);
    const first = evaluateGate(ctx, entry!, v1);
    assert.equal(first.passed, true);
    assert.deepEqual(
      first.conditions.map((c) => c.status),
      ["passed", "skipped"],
    );
    assert.match(first.conditions[1]!.detail, /no @champion yet/);
    setAlias(ctx, "m", "champion", v1.version);

    const worse = evaluateGate(ctx, entry!, version(0.85, 2));
    assert.equal(worse.passed, false);
    const c = worse.conditions[1]!;
    assert.equal(c.status, "failed");
    assert.equal(c.actual, 0.85);
    assert.equal(c.expected, 0.89);
    assert.deepEqual(c.against, { alias: "champion", version: 1 });
    assert.equal(c.detail, "accuracy 0.85 < 0.89 (@champion v1 accuracy 0.9 - 0.01)");

    const close = evaluateGate(ctx, entry!, version(0.895, 3));
    assert.equal(close.passed, true, JSON.stringify(close.conditions));

    const missing = evaluateGate(ctx, entry!, version(null, 4));
    assert.equal(missing.passed, false);
    assert.match(missing.conditions[0]!.detail, /accuracy of v4 is missing/);
  } finally {
    closeContext(ctx);
    await removeDir(root);
  }
});

test("a gate does not compare one stage's metric with another's: training accuracy is not test accuracy", async () => {
  const root = await tempDir("lathe-gate-stages-");
  const ctx = openContext(root, { quiet: true });
  try {
    /** A finished run of `stage` whose `accuracy` is `accuracy`. */
    const evaluateRun = (accuracy: number): string => {
      const id = `eval${Math.random().toString(16).slice(2, 14)}`;
      ctx.db
        .prepare(
          "INSERT INTO runs (id, experiment_id, name, stage, status, start_time, end_time) VALUES (?, '0', 'evaluate', 'evaluate', 'FINISHED', 1, 2)",
        )
        .run(id);
      ctx.db
        .prepare(
          "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, 'accuracy', ?, 0, 1)",
        )
        .run(id, accuracy);
      return id;
    };
    const trainRun = (bias: number) =>
      seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel({ bias: [bias, 0, 0] }), {
        metrics: { accuracy: 0.99 },
      }).runId;
    const [entry] = parse(
      "  m:\n    from: train\n    metrics: [evaluate]\n    alias: champion\n    gate:\n      - accuracy >= @champion - 0.01\n",
    );

    // v1 by hand from its train run: its accuracy is the training accuracy.
    const v1 = register(ctx, { model: "m", runId: trainRun(1) });
    assert.deepEqual(v1.metricStages, { accuracy: "train" });
    setAlias(ctx, "m", "champion", v1.version);

    // v2 as the gate registers it: the evaluate stage's test accuracy over the train run's.
    const v2 = register(ctx, { model: "m", runId: trainRun(2), metricRuns: [evaluateRun(0.8)] });
    assert.equal(v2.metrics.accuracy, 0.8);
    assert.deepEqual(v2.metricStages, { accuracy: "evaluate" });
    const mixed = evaluateGate(ctx, entry!, v2);
    assert.equal(mixed.passed, false);
    const c = mixed.conditions[0]!;
    assert.equal(c.status, "failed");
    assert.equal(c.expected, null);
    assert.deepEqual(c.against, { alias: "champion", version: 1 });
    assert.equal(
      c.detail,
      "accuracy of v2 comes from stage 'evaluate' but accuracy of @champion (v1) from stage 'train', so they are not compared; promote by hand (lathe models promote m@2 champion) if this version should be champion",
    );

    // With both from evaluate they compare as usual.
    setAlias(ctx, "m", "champion", v2.version);
    const v3 = register(ctx, { model: "m", runId: trainRun(3), metricRuns: [evaluateRun(0.7)] });
    const same = evaluateGate(ctx, entry!, v3);
    assert.equal(same.conditions[0]!.status, "failed");
    assert.equal(
      same.conditions[0]!.detail,
      "accuracy 0.7 < 0.79 (@champion v2 accuracy 0.8 - 0.01)",
    );

    // A version from before stages were kept (none recorded) compares as before.
    ctx.db.prepare("UPDATE model_versions SET metric_stages = '{}' WHERE version = 1").run();
    setAlias(ctx, "m", "champion", v1.version);
    const old = evaluateGate(ctx, entry!, v3);
    assert.match(
      old.conditions[0]!.detail,
      /^accuracy 0\.7 < 0\.98 \(@champion v1 accuracy 0\.99 - 0\.01\)$/,
    );
  } finally {
    closeContext(ctx);
    await removeDir(root);
  }
});

// ----- lathe repro on examples/weather, through the built CLI -----

let dir = "";

function writeGate(gate: string[], extra = ""): void {
  const base = readFileSync(join(repoRoot, "examples", "weather", "lathe.yaml"), "utf8");
  const lines = gate.map((g) => `      - ${g}`).join("\n");
  writeFileSync(
    join(dir, "lathe.yaml"),
    `${base}models:\n  weather-model:\n    from: train\n    metrics: [evaluate]\n    alias: champion\n${extra}    gate:\n${lines}\n`,
  );
}

/** The line of lathe.yaml that writeGate puts `n` lines after the example's own last line. */
function lineAfterExample(n: number): number {
  const base = readFileSync(join(repoRoot, "examples", "weather", "lathe.yaml"), "utf8");
  return base.trimEnd().split("\n").length + n;
}

function setEpochs(epochs: number): void {
  const file = join(dir, "params.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace(/epochs: \d+/, `epochs: ${epochs}`));
}

const lathe = (...args: string[]) => runCli(args, { cwd: dir, timeoutMs: 240_000 });

before(async () => {
  dir = await tempDir("lathe-gate-weather-");
  const example = join(repoRoot, "examples", "weather");
  const ignored = ["data/prepared", "models", "metrics", ".lathe"].map((p) =>
    p.split("/").join(sep),
  );
  cpSync(example, dir, {
    recursive: true,
    filter: (src) => !ignored.some((p) => relative(example, src).startsWith(p)),
  });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
});

after(async () => {
  if (dir) {
    await removeDir(dir);
  }
});

test("weather: a reachable gate registers v1 and moves @champion; exit 0", async () => {
  writeGate(["accuracy >= 0.6", "accuracy >= @champion - 0.01"]);
  const r = await lathe("repro");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /model +weather-model v1: gate passed \(2 conditions\); @champion → v1/);
  assert.match(r.stdout, /passed +accuracy >= 0\.6: accuracy 0\.\d+ >= 0\.6/);
  const shown = await lathe("--json", "models", "show", "weather-model@champion");
  assert.equal(shown.code, 0, shown.stderr);
  const v = JSON.parse(shown.stdout) as {
    version: number;
    metrics: Record<string, number>;
    gate: { passed: boolean; moved: boolean; source: string };
    dataIds: { path: string }[];
  };
  assert.equal(v.version, 1);
  assert.ok(v.metrics.accuracy! >= 0.6 && v.metrics.f1_macro! > 0, JSON.stringify(v.metrics));
  assert.deepEqual(
    [v.gate.passed, v.gate.moved, v.gate.source],
    [true, true, `lathe.yaml:${lineAfterExample(2)}:3`],
  );
  assert.ok(
    v.dataIds.some((d) => d.path === "data/prepared"),
    JSON.stringify(v.dataIds),
  );
});

test("weather: an impossible gate fails repro with exit 1 and both values; @champion stays", async () => {
  writeGate(["accuracy >= 0.999"]);
  setEpochs(300);
  const r = await lathe("repro");
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(
    r.stderr,
    /weather-model v2: gate failed: 'accuracy >= 0\.999' \(accuracy 0\.\d+ < 0\.999\); @champion not moved/,
  );
  const champion = await lathe("--json", "models", "show", "weather-model@champion");
  assert.equal((JSON.parse(champion.stdout) as { version: number }).version, 1);
  const v2 = JSON.parse((await lathe("--json", "models", "show", "weather-model@2")).stdout) as {
    gate: { passed: boolean; conditions: { status: string; actual: number; expected: number }[] };
  };
  assert.equal(v2.gate.passed, false);
  assert.equal(v2.gate.conditions[0]!.status, "failed");
  assert.equal(v2.gate.conditions[0]!.expected, 0.999);

  // Nothing changed: the same bytes meet the same gate, and CI gets the same answer.
  const again = await lathe("repro");
  assert.equal(again.code, 1, again.stderr + again.stdout);
  assert.match(again.stdout, /GATE +weather-model v2: gate failed.*\(same bytes as before\)/);
});

test("weather: 'not worse than @champion by more than 0.01' fails a much weaker model", async () => {
  writeGate(["accuracy >= @champion - 0.01"]);
  setEpochs(1);
  const r = await lathe("repro");
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(
    r.stderr,
    /weather-model v3: gate failed: 'accuracy >= @champion - 0\.01' \(accuracy 0\.\d+ < 0\.\d+ \(@champion v1 accuracy 0\.\d+ - 0\.01\)\)/,
  );
});

test("weather: a gate syntax error stops repro before any stage, exit 2 naming lathe.yaml's line", async () => {
  writeGate(["accuracy => 0.8"]);
  const r = await lathe("repro");
  assert.equal(r.code, 2, r.stderr + r.stdout);
  assert.ok(
    r.stderr.includes(
      `lathe.yaml:${lineAfterExample(7)}:9: models.weather-model.gate[0]: 'accuracy => 0.8' is not a condition`,
    ),
    r.stderr,
  );
  assert.doesNotMatch(r.stdout, /ran/);

  // status and dag check the section too: a CI step with --check fails where repro would.
  for (const args of [["status", "--check"], ["dag"]]) {
    const checked = await lathe(...args);
    assert.equal(checked.code, 2, `${args.join(" ")}: ${checked.stderr}${checked.stdout}`);
    assert.match(
      checked.stderr,
      /models\.weather-model\.gate\[0\]: 'accuracy => 0\.8' is not a condition/,
    );
  }
});

// ----- the same through the daemon's repro route -----

test("POST /api/v1/pipeline/repro: a failed gate answers ok false with the conditions; a bad gate is 422", async () => {
  const root = await tempDir("lathe-gate-route-");
  writeFileSync(join(root, "src.onnx"), linearSoftmaxModel());
  writeFileSync(
    join(root, "train.js"),
    `const fs = require("fs");\nfs.copyFileSync("src.onnx", "model.onnx");\nfs.writeFileSync("m.json", JSON.stringify({ accuracy: 0.5 }));\n`,
  );
  const pipeline = (gate: string) =>
    writeFileSync(
      join(root, "lathe.yaml"),
      `stages:
  train:
    cmd: node train.js
    deps: [src.onnx, train.js]
    outs: [model.onnx]
    metrics: [m.json]
models:
  tiny:
    from: train
    alias: champion
    gate: [${gate}]
`,
    );
  const d = await daemonIn(root);
  try {
    pipeline("accuracy >= 0.9");
    const failed = await d.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {});
    assert.equal(failed.ok, false);
    assert.equal(failed.stages[0]!.status, "ran");
    const outcome = failed.models![0]!;
    assert.deepEqual([outcome.model, outcome.status, outcome.version], ["tiny", "registered", 1]);
    assert.equal(outcome.gate!.passed, false);
    assert.equal(outcome.gate!.conditions[0]!.detail, "accuracy 0.5 < 0.9");
    const model = await d.client.call<RegisteredModel>("GET", "/api/v1/models/tiny");
    assert.deepEqual(model.aliases, {});

    pipeline("accuracy >= 0.4");
    const passed = await d.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {});
    assert.equal(passed.ok, true, JSON.stringify(passed.models));
    assert.equal(passed.models![0]!.status, "unchanged");
    const after = await d.client.call<RegisteredModel>("GET", "/api/v1/models/tiny");
    assert.deepEqual(after.aliases, { champion: 1 });

    pipeline("accuracy >= ");
    await assert.rejects(d.client.call("POST", "/api/v1/pipeline/repro", {}), (err: unknown) => {
      assert.ok(err instanceof LatheError, String(err));
      assert.equal(err.code, "LATHE_BAD_FILE");
      assert.match(
        err.message,
        /^lathe\.yaml:11:12: models\.tiny\.gate\[0\]: 'accuracy >=' is not a condition/,
      );
      return true;
    });
  } finally {
    await d.close();
    await removeDir(root);
  }
});
