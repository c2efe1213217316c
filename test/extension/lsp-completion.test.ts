import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { copyWorkspace, positionOf, repoRoot, startLsp, type Lsp } from "./lsp-client";
import { limitItems } from "../../extension/src/language-server/completionLimit";

const weather = readFileSync(join(repoRoot, "examples/weather/lathe.yaml"), "utf8");
const dvc = readFileSync(join(repoRoot, "test/fixtures/dvc-get-started/dvc.yaml"), "utf8");
let lsp: Lsp;
let ws: ReturnType<typeof copyWorkspace>;
let dvcWs: ReturnType<typeof copyWorkspace>;

before(async () => {
  ws = copyWorkspace(join(repoRoot, "examples/weather"));
  dvcWs = copyWorkspace(join(repoRoot, "test/fixtures/dvc-get-started"));
  lsp = await startLsp();
});
after(() => {
  lsp.close();
  ws.remove();
  dvcWs.remove();
});

function edited(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `fixture has '${from}'`);
  return text.replace(from, to);
}

test("completes params keys in a flow list with their current values, skipping keys already listed", async () => {
  const text = edited(
    weather,
    "params: [train.epochs, train.lr, train.l2, train.seed]",
    "params: [train.epochs, tr]",
  );
  const uri = ws.uri("lathe.yaml");
  lsp.open(uri, text);
  const at = positionOf(text, "[train.epochs, tr]", "[train.epochs, tr".length);

  const items = await lsp.completion(uri, at);

  const lr = items.find((i) => i.label === "train.lr");
  assert.ok(lr, `train.lr offered; got ${items.map((i) => i.label).join(", ")}`);
  assert.equal(lr.detail, "1.0 (params.yaml)");
  assert.deepEqual((lr.textEdit as { range: unknown }).range, {
    start: { line: at.line, character: at.character - 2 },
    end: at,
  });
  assert.equal(items.find((i) => i.label === "prepare.city")?.detail, "Seattle (params.yaml)");
  assert.ok(
    !items.some((i) => i.label === "train.epochs"),
    "a key already listed is not offered again",
  );
});

test("completes params keys in a block list of a real dvc.yaml", async () => {
  const text = edited(dvc, "    - train.seed\n", "    - train.\n");
  const uri = dvcWs.uri("dvc.yaml");
  lsp.open(uri, text);

  const items = await lsp.completion(
    uri,
    positionOf(text, "    - train.\n", "    - train.".length),
  );

  assert.deepEqual(
    items.filter((i) => i.label.startsWith("train.")).map((i) => [i.label, i.detail]),
    [["train.seed", "20170428 (params.yaml)"]],
  );
});

test("completes the stage fields not yet written, with their documentation", async () => {
  const text = edited(
    weather,
    "    cmd: node src/train.js\n",
    "    cmd: node src/train.js\n    fr\n",
  );
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "    fr\n", 6));

  const labels = items.map((i) => i.label);
  assert.ok(labels.includes("frozen"));
  assert.ok(labels.includes("always_changed"));
  assert.ok(!labels.includes("cmd"), "cmd is written already");
  const frozen = items.find((i) => i.label === "frozen")!;
  assert.match((frozen.documentation as { value: string }).value, /never run/);
  assert.equal((frozen.textEdit as { newText: string }).newText, "frozen: ");
});

test("completes top-level fields at the root", async () => {
  const text = `${weather}ex`;
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "\nex", 3));

  assert.ok(items.some((i) => i.label === "experiment"));
  assert.ok(items.some((i) => i.label === "vars"));
});

test("completes workspace paths and other stages' outputs in deps", async () => {
  const text = edited(
    weather,
    "deps: [src/evaluate.js, src/common.js, models/weather.onnx, data/prepared]",
    "deps: [src/]",
  );
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "deps: [src/]", "deps: [src/".length));

  const labels = items.map((i) => i.label);
  for (const file of ["src/common.js", "src/evaluate.js", "src/prepare.js", "src/train.js"]) {
    assert.ok(labels.includes(file), `${file} offered`);
  }
  const model = items.find((i) => i.label === "models/weather.onnx");
  assert.equal(model?.detail, "outs of stage 'train'");
  assert.equal(items.find((i) => i.label === "data/prepared")?.detail, "outs of stage 'prepare'");
});

test("completes ${vars} from inline vars, then params.yaml's values, the defaults (#4)", async () => {
  const text = `vars:\n  - city: Seattle\n    model: {depth: 3}\n${edited(weather, "cmd: node src/prepare.js", "cmd: node src/prepare.js ${mo")}`;
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "${mo", 4));

  assert.deepEqual(
    items.map((i) => [i.label, i.detail]),
    [
      ["city", '"Seattle"'],
      ["model", '{"depth":3}'],
      ["model.depth", "3"],
      ["prepare", '{"city":"Seattle","train_years":[2012,2013,2014],"test_ye… (params.yaml)'],
      ["prepare.city", "Seattle (params.yaml)"],
      ["prepare.train_years", "[2012,2013,2014] (params.yaml)"],
      ["prepare.test_year", "2015 (params.yaml)"],
      ["train", '{"epochs":500,"lr":1,"l2":0.001,"seed":7} (params.yaml)'],
      ["train.epochs", "500 (params.yaml)"],
      ["train.lr", "1.0 (params.yaml)"],
      ["train.l2", "0.001 (params.yaml)"],
      ["train.seed", "7 (params.yaml)"],
    ],
  );
});

test("offers true and false for a flag", async () => {
  const text = edited(
    weather,
    "    cmd: node src/train.js\n",
    "    cmd: node src/train.js\n    frozen: \n",
  );
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "frozen: \n", 8));

  assert.deepEqual(
    items.map((i) => i.label),
    ["true", "false"],
  );
});

test("a long params list is filtered by what is typed and cut to 200, marked incomplete", () => {
  const many = Array.from({ length: 1000 }, (_, i) => ({
    label: `s${i}.lr`,
    sortText: `0s${i}.lr`,
  }));
  const all = limitItems(many, "s");
  assert.equal(all.items.length, 200);
  assert.equal(all.isIncomplete, true);
  const s4 = limitItems(many, "s42");
  assert.equal(s4.isIncomplete, false);
  // s42.lr, s420-s429, and every label holding s…4…2 in order (s142.lr, s402.lr…).
  assert.ok(s4.items.every((i) => /s.*4.*2/.test(i.label)));
  assert.equal(s4.items[0]!.label, "s42.lr");
  assert.ok(s4.items.some((i) => i.label === "s142.lr"));
  const short = limitItems(many.slice(0, 5), "zz");
  assert.equal(short.items.length, 5, "a short list goes whole");
});

test("a plot's x and y complete the metric names the stages write", async () => {
  mkdirSync(join(ws.root, "metrics"), { recursive: true });
  writeFileSync(join(ws.root, "metrics/train_history.csv"), "step,loss,val_loss\n0,1,1\n");
  writeFileSync(
    join(ws.root, "metrics/eval.json"),
    '{"accuracy": 0.8, "per_class": {"rain": 0.9}}',
  );
  const text = edited(
    weather,
    "    plots: [metrics/train_history.csv]\n",
    "    plots:\n      - metrics/train_history.csv:\n          x: \n",
  );
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "x: \n", 3));

  assert.deepEqual(
    items.map((i) => i.label),
    ["accuracy", "loss", "per_class.rain", "val_loss"],
  );
});

test("completes the fields of a models: entry from the schema, with their documentation (#5)", async () => {
  const text = `${weather}models:\n  weather-model:\n    from: train\n    al\n`;
  const uri = ws.uri("lathe.yaml");
  lsp.change(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "    al\n", 6));

  const labels = items.map((i) => i.label);
  for (const field of ["alias", "gate", "metrics", "path", "description"]) {
    assert.ok(labels.includes(field), `${field} offered; got ${labels.join(", ")}`);
  }
  const gate = items.find((i) => i.label === "gate")!;
  assert.match((gate.documentation as { value: string }).value, /@champion - 0\.01/);
});

test("a models: entry's from and metrics complete stage names (#4)", async () => {
  const uri = ws.uri("lathe.yaml");
  for (const [line, prefix] of [
    ["    from: tr", "tr"],
    ["    metrics: [ev", "ev"],
  ] as const) {
    const text = `${weather}models:\n  weather-model:\n${line}\n`;
    lsp.change(uri, text);

    const items = await lsp.completion(uri, positionOf(text, `${line}\n`, line.length));

    const labels = items.map((i) => i.label);
    for (const stage of ["prepare", "train", "evaluate"]) {
      assert.ok(labels.includes(stage), `${prefix}: ${stage} offered; got ${labels.join(", ")}`);
    }
  }
});
