import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Diagnostic } from "vscode-languageserver";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import { runCli } from "../helpers";
import { copyWorkspace, repoRoot, startLsp, type Lsp } from "./lsp-client";

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

/** Opens `text` as the workspace's lathe.yaml and returns its diagnostics as [range, message]. */
async function problems(text: string): Promise<[string, string][]> {
  lsp.open(ws.uri("lathe.yaml"), text);
  const items: Diagnostic[] = await lsp.diagnostics(ws.uri("lathe.yaml"));
  return items.map((d) => [
    `${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character}`,
    typeof d.message === "string" ? d.message : d.message.value,
  ]);
}

function edited(from: string, to: string): string {
  assert.ok(weather.includes(from), `lathe.yaml has '${from}'`);
  return weather.replace(from, to);
}

test("the weather example has no problems; the DVC get-started pipeline only its DVC-held data, as lathe repro says", async () => {
  assert.deepEqual(await problems(weather), []);
  const dvcWs = copyWorkspace(join(repoRoot, "test/fixtures/dvc-get-started"));
  try {
    lsp.open(dvcWs.uri("dvc.yaml"), readFileSync(join(dvcWs.root, "dvc.yaml"), "utf8"));
    const found = await lsp.diagnostics(dvcWs.uri("dvc.yaml"));
    // docs/pipeline.md: Lathe does not read .dvc files; the dep is an error (exit 2 in the CLI).
    const message =
      "stage 'prepare' depends on data/data.xml, which is tracked by DVC (data/data.xml.dvc) and not checked out; Lathe does not read .dvc pointer files: run 'dvc pull data/data.xml', then 'lathe add data/data.xml'";
    assert.deepEqual(
      found.map((d) => [d.range, d.message]),
      [[{ start: { line: 4, character: 6 }, end: { line: 4, character: 19 } }, message]],
    );
    const cli = await runCli(["repro"], { cwd: dvcWs.root });
    assert.equal(cli.code, 2);
    assert.ok(cli.stderr.includes(`dvc.yaml:5:7: ${message}`), cli.stderr);
  } finally {
    dvcWs.remove();
  }
});

test("an unknown params key is reported on the key", async () => {
  assert.deepEqual(await problems(edited("train.lr,", "train.lrr,")), [
    ["10:27-10:36", "param 'train.lrr' is not in params.yaml"],
  ]);
});

test("a params file that does not exist is reported on its name", async () => {
  assert.deepEqual(
    await problems(edited("params: [train.epochs,", "params: [{other.yaml: [a]}, train.epochs,")),
    [["10:14-10:24", "params file other.yaml does not exist"]],
  );
});

test("a params file named with no key of it used is lathe repro's error on its name", async () => {
  writeFileSync(join(ws.root, "other.yaml"), "a: 1\n");
  assert.deepEqual(
    await problems(edited("params: [train.epochs,", "params: [{other.yaml: []}, train.epochs,")),
    [
      [
        "10:14-10:24",
        "stage 'train': tracking a whole params file is not supported; list its keys: {other.yaml: [key, …]}",
      ],
    ],
  );
});

test("an unknown field and a missing cmd are schema errors", async () => {
  assert.deepEqual(
    await problems(edited("    cmd: node src/train.js", "    cmdd: node src/train.js")),
    [
      [
        "8:4-8:8",
        "unknown field 'cmdd' in stage 'train'; valid: cmd, wdir, deps, params, outs, metrics, plots, env, desc, frozen, always_changed, matrix, meta",
      ],
      ["7:2-7:7", "stage 'train': 'cmd' is missing"],
    ],
  );
});

test("a value of the wrong type is reported on the value", async () => {
  assert.deepEqual(
    await problems(
      edited("    cmd: node src/train.js", "    cmd: node src/train.js\n    frozen: maybe"),
    ),
    [["9:12-9:17", "'frozen' must be true or false"]],
  );
  assert.deepEqual(await problems(edited("    cmd: node src/train.js", "    cmd: {a: 1}")), [
    ["8:9-8:15", "'cmd' must be a string or a list of strings"],
  ]);
});

test("a dep that neither exists nor is produced is reported; a produced one is not", async () => {
  assert.deepEqual(await problems(edited("deps: [src/train.js,", "deps: [src/nope.js,")), [
    [
      "9:11-9:22",
      "stage 'train' depends on src/nope.js, which does not exist and no stage produces; run 'lathe add src/nope.js' or fix deps",
    ],
  ]);
});

test("an output on the workspace's, git's, Lathe's or the pipeline's own files is reported as lathe repro words it", async () => {
  const cases: [string, string, RegExp][] = [
    [
      "outs: [models/weather.onnx]",
      "outs: [models/weather.onnx, params.yaml]",
      /'outs' path 'params\.yaml' is the params file of stage 'prepare' \(lathe\.yaml:6:14\)/,
    ],
    ["outs: [data/prepared]", "outs: [data/prepared, src/..]", /is the workspace itself/],
    ["plots: [metrics/confusion.json]", "plots: [.git/c.json]", /is inside \.git\//],
    ["metrics: [metrics/eval.json]", "metrics: [.lathe/eval.json]", /is inside \.lathe\//],
    ["outs: [data/prepared]", "outs: [data/prepared, ../prepared]", /is outside the workspace$/],
  ];
  for (const [from, to, message] of cases) {
    const text = edited(from, to);
    const found = await problems(text);
    assert.equal(found.length, 1, `${to}: ${JSON.stringify(found)}`);
    const [range, shown] = found[0]!;
    assert.match(shown, message);
    // The same words, at the same place, as the parser that `lathe repro` runs.
    const readFile = (path: string) => readFileSync(join(ws.root, path), "utf8");
    assert.throws(
      () => parsePipeline("lathe.yaml", text, { readFile }),
      (err: Error) => {
        const [line, col] = range.split("-")[0]!.split(":").map(Number) as [number, number];
        assert.equal(err.message, `lathe.yaml:${line + 1}:${col + 1}: ${shown}`);
        return true;
      },
    );
  }
});

test("a cycle is reported on every stage in it, naming them in order", async () => {
  assert.deepEqual(
    await problems(edited("deps: [src/prepare.js,", "deps: [models/weather.onnx, src/prepare.js,")),
    [
      ["2:2-2:9", "the stages form a cycle: prepare -> train -> prepare"],
      ["7:2-7:7", "the stages form a cycle: prepare -> train -> prepare"],
    ],
  );
});

test("two stages writing overlapping paths are both reported", async () => {
  const found = await problems(
    edited(
      "plots: [metrics/confusion.json]",
      "plots: [metrics/confusion.json, metrics/train.json]",
    ),
  );
  assert.deepEqual(found, [
    [
      "12:14-12:32",
      "stage 'train' writes the same path as stage 'evaluate' ('metrics/train.json')",
    ],
    [
      "18:36-18:54",
      "stage 'evaluate' writes the same path as stage 'train' ('metrics/train.json')",
    ],
  ]);
});

test("a YAML syntax error is reported, and the rest of the file is still checked", async () => {
  const text = edited(
    "params: [train.epochs, train.lr, train.l2, train.seed]",
    "params: [train.epochs, tra",
  );
  assert.deepEqual(await problems(text), [
    [
      "11:4-11:5",
      "not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
    ["10:27-10:30", "param 'tra' is not in params.yaml"],
  ]);
});

test("a command reading another stage's output without listing it in deps is a warning with a fix", async () => {
  const text = edited(
    "    cmd: node src/evaluate.js",
    "    cmd: node src/evaluate.js models/weather.onnx",
  ).replace(
    "deps: [src/evaluate.js, src/common.js, models/weather.onnx, data/prepared]",
    "deps: [src/evaluate.js, src/common.js, data/prepared]",
  );
  lsp.open(ws.uri("lathe.yaml"), text);
  const [warning, ...rest] = await lsp.diagnostics(ws.uri("lathe.yaml"));
  assert.deepEqual(rest, []);
  assert.equal(warning!.severity, 2);
  assert.deepEqual(warning!.range, {
    start: { line: 15, character: 30 },
    end: { line: 15, character: 49 },
  });
  assert.equal(
    warning!.message,
    "'models/weather.onnx' is written by stage 'train' but is not in this stage's deps, so the stages may run in the wrong order",
  );

  const [fix] = await lsp.codeActions(ws.uri("lathe.yaml"), warning!.range, [warning!]);

  assert.equal(fix!.title, "Add 'models/weather.onnx' to the deps of 'evaluate'");
  assert.deepEqual(fix!.edit!.changes![ws.uri("lathe.yaml")], [
    {
      range: { start: { line: 16, character: 56 }, end: { line: 16, character: 56 } },
      newText: ", models/weather.onnx",
    },
  ]);
});

test("the quick fix for an unknown params key adds it under its section of params.yaml", async () => {
  lsp.open(ws.uri("lathe.yaml"), edited("train.lr,", "train.momentum,"));
  const [diagnostic] = await lsp.diagnostics(ws.uri("lathe.yaml"));

  const [fix] = await lsp.codeActions(ws.uri("lathe.yaml"), diagnostic!.range, [diagnostic!]);

  assert.equal(fix!.title, "Add 'train.momentum' to params.yaml");
  assert.deepEqual(fix!.edit!.changes![ws.uri("params.yaml")], [
    {
      range: { start: { line: 10, character: 0 }, end: { line: 10, character: 0 } },
      newText: "  momentum: null\n",
    },
  ]);
});

test("turning checkFiles off leaves only the checks of the text itself", async () => {
  lsp.settings.checkFiles = false;
  void lsp.client.sendNotification("workspace/didChangeConfiguration", { settings: {} });
  try {
    assert.deepEqual(await problems(edited("deps: [src/train.js,", "deps: [src/nope.js,")), []);
  } finally {
    lsp.settings.checkFiles = true;
    void lsp.client.sendNotification("workspace/didChangeConfiguration", { settings: {} });
  }
});

test("every prefix of a pipeline gets answers, never an error", async () => {
  const uri = ws.uri("lathe.yaml");
  for (let end = 0; end <= weather.length; end += 5) {
    const text = weather.slice(0, end);
    lsp.open(uri, text);
    const at = {
      line: text.split("\n").length - 1,
      character: text.length - text.lastIndexOf("\n") - 1,
    };
    await lsp.diagnostics(uri);
    await lsp.completion(uri, at);
    await lsp.hover(uri, at);
    await lsp.symbols(uri);
  }
});
