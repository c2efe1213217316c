/**
 * The `models:` section through the language server over JSON-RPC: the problems `lathe repro`
 * would refuse (unknown stages, outputs, gate conditions, aliases) are diagnostics on the exact
 * text at fault, all of them at once, with the CLI's messages; shape problems stay the schema's.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Diagnostic } from "vscode-languageserver";
import { parseModelsSection } from "../../daemon/src/registry/gates-parse";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import { copyWorkspace, positionOf, rangeOf, repoRoot, startLsp, type Lsp } from "./lsp-client";

const weather = readFileSync(join(repoRoot, "examples/weather/lathe.yaml"), "utf8");
let lsp: Lsp;
let ws: ReturnType<typeof copyWorkspace>;

before(async () => {
  ws = copyWorkspace(join(repoRoot, "examples/weather"));
  lsp = await startLsp();
});
after(() => {
  lsp.close();
  ws.remove();
});

async function diagnostics(text: string): Promise<Diagnostic[]> {
  lsp.open(ws.uri("lathe.yaml"), text);
  return lsp.diagnostics(ws.uri("lathe.yaml"));
}

/** The range of `needle` inside the first `context` (or the first `needle`), with `message`. */
function at(text: string, needle: string, message: string, context = needle) {
  const start = positionOf(text, context, context.indexOf(needle));
  return {
    range: { start, end: { line: start.line, character: start.character + needle.length } },
    message,
  };
}

const good = `${weather}models:
  weather-model:
    from: train
    metrics: [evaluate]
    alias: champion
    gate:
      - accuracy >= 0.8
      - accuracy >= @champion - 0.01
      - "f1 > @champion.f1"
`;

test("a models: section lathe repro accepts has no problems", async () => {
  assert.deepEqual(await diagnostics(good), []);
});

test("unknown stages, outputs, bad gate conditions and aliases are each reported on their text", async () => {
  const text = `${weather}models:
  weather-model:
    from: trian
    metrics: [evaluate, evaluat]
    alias: latest
    gate:
      - accuracy => 0.8
      - accuracy >= best
      - accuracy >= @champion - x
      - 9lives > 1
  evaluated:
    from: evaluate
  named:
    from: train
    path: models/other.onnx
`;
  const found = (await diagnostics(text)).map((d) => ({ range: d.range, message: d.message }));
  const stages = "stages: prepare, train, evaluate";
  const shape =
    "write '<metric> <op> <number>' or '<metric> <op> @<alias> [+|- <number>]' with op one of >=, >, <=, <, ==, != (e.g. 'accuracy >= 0.8', 'accuracy >= @champion - 0.01')";
  assert.deepEqual(found, [
    at(text, "trian", `models.weather-model.from: no stage named 'trian'; ${stages}`),
    at(
      text,
      "evaluat",
      `models.weather-model.metrics: no stage named 'evaluat'; ${stages}`,
      "evaluat]",
    ),
    at(
      text,
      "accuracy => 0.8",
      `models.weather-model.gate[0]: 'accuracy => 0.8' is not a condition; ${shape}`,
    ),
    at(
      text,
      "accuracy >= best",
      `models.weather-model.gate[1]: 'accuracy >= best' compares with 'best', which is neither a number nor @<alias>; ${shape}`,
    ),
    at(
      text,
      "accuracy >= @champion - x",
      `models.weather-model.gate[2]: 'accuracy >= @champion - x' adds 'x', which is not a number; ${shape}`,
    ),
    at(
      text,
      "9lives > 1",
      `models.weather-model.gate[3]: '9lives > 1' starts with '9lives', which is not a metric name; ${shape}`,
    ),
    at(
      text,
      "latest",
      "models.weather-model.alias: 'latest' is not a valid alias: use a letter, then letters, digits, '_' or '-' ('latest' and v<number> are reserved)",
    ),
    at(
      text,
      "evaluate",
      "models.evaluated: stage 'evaluate' has no .onnx output; name the file with 'path:' (its outputs: metrics/eval.json, metrics/confusion.json)",
      "from: evaluate",
    ),
    at(
      text,
      "models/other.onnx",
      "models.named.path: stage 'train' has no output 'models/other.onnx'; its outputs: models/weather.onnx, metrics/train.json, metrics/train_history.csv",
    ),
  ]);
  // The exact place, spelled out once: `from: trian` is on line 21, columns 10 to 15.
  assert.deepEqual(found[0]!.range, {
    start: { line: 21, character: 10 },
    end: { line: 21, character: 15 },
  });
  for (const d of await diagnostics(text)) {
    assert.equal(d.code, "model-entry");
    assert.equal(d.source, "lathe");
  }
});

test("the first problem is the one lathe repro stops at, with the same message", async () => {
  const text = good.replace("accuracy >= 0.8", "accuracy >== 0.8");
  const [first] = await diagnostics(text);
  assert.ok(first && typeof first.message === "string");
  const message = first.message;
  const pipeline = parsePipeline("lathe.yaml", text);
  assert.throws(
    () => parseModelsSection("lathe.yaml", text, pipeline),
    (err: Error) => {
      const line = first.range.start.line + 1;
      const col = first.range.start.character + 1;
      assert.equal(err.message, `lathe.yaml:${line}:${col}: ${message}`);
      return true;
    },
  );
});

test("a field of the wrong shape is the schema's problem only, reported once", async () => {
  const text = good.replace("from: train", "from: [train]");
  const found = await diagnostics(text);
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.match(found[0]!.message as string, /'from' must be a string/);
  assert.notEqual(found[0]!.code, "model-entry");
});

test("a foreach stage's generated names are accepted, and the section may come before stages", async () => {
  const text = `models:
  per-city:
    from: train@paris
    gate: [accuracy >= 0.5]
  wrong:
    from: train
stages:
  train:
    foreach: [paris, oslo]
    do:
      cmd: node src/train.js \${item}
      deps: [src/train.js]
      outs:
        - models/\${item}.onnx
`;
  const found = await diagnostics(text);
  assert.deepEqual(
    found.map((d) => [d.range, d.message]),
    [[rangeOf(text, "train", 1), "models.wrong.from: no stage named 'train'; stages: train@…"]],
  );
});
