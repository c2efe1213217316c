import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { MarkupContent } from "vscode-languageserver";
import { stringify } from "yaml";
import { hashPath } from "../../daemon/src/data/hash";
import { writePointer } from "../../daemon/src/data/pointer";
import { copyWorkspace, positionOf, rangeOf, repoRoot, startLsp, type Lsp } from "./lsp-client";

const text = readFileSync(join(repoRoot, "examples/weather/lathe.yaml"), "utf8");
let lsp: Lsp;
let ws: ReturnType<typeof copyWorkspace>;
let uri: string;

before(async () => {
  ws = copyWorkspace(join(repoRoot, "examples/weather"));
  lsp = await startLsp();
  uri = ws.uri("lathe.yaml");
  lsp.open(uri, text);
});
after(() => {
  lsp.close();
  ws.remove();
});

/** The range of a stage's name in `stages:`. */
function stageKey(name: string) {
  const start = positionOf(text, `\n  ${name}:`, 3);
  return { start, end: { line: start.line, character: start.character + name.length } };
}

async function hoverText(needle: string, nth = 0): Promise<string | undefined> {
  const hover = await lsp.hover(uri, positionOf(text, needle, 2, nth));
  return (hover?.contents as MarkupContent | undefined)?.value;
}

test("hover shows a param's value as written and where it is", async () => {
  const hover = await lsp.hover(uri, positionOf(text, "train.lr", 3));
  assert.deepEqual(hover, {
    contents: { kind: "markdown", value: "**train.lr** = `1.0`\n\nparams.yaml, line 8" },
    range: rangeOf(text, "train.lr"),
  });
});

test("hover shows a field's documentation from the schema", async () => {
  assert.equal(
    await hoverText("cmd: node src/train.js"),
    "**cmd**\n\nThe command: run with `sh -c` in `wdir`, in its own process group. A list of commands is joined with ` && `.",
  );
});

test("hover shows a dep's size and whether a stage produces it", async () => {
  const size = readFileSync(join(ws.root, "data/weather.csv")).length;
  assert.equal(
    await hoverText("data/weather.csv"),
    `**data/weather.csv**\n\n${(size / 1024).toFixed(1)} KiB (${size} bytes)\n\na source file (no stage produces it)`,
  );
  assert.equal(
    await hoverText("data/prepared", 1),
    "**data/prepared**\n\nnot on disk yet\n\nproduced by stage 'prepare'",
  );
  assert.equal(
    await hoverText("models/weather.onnx"),
    "**models/weather.onnx**\n\nnot on disk yet\n\nouts of stage 'train'\n\nread by 'evaluate'",
  );
});

test("go to definition: a dep to the out that produces it, a param to its line in params.yaml", async () => {
  assert.deepEqual(await lsp.definition(uri, positionOf(text, "data/prepared", 2, 1)), [
    { uri, range: rangeOf(text, "data/prepared", 0) },
  ]);
  assert.deepEqual(await lsp.definition(uri, positionOf(text, "train.lr", 2)), [
    {
      uri: ws.uri("params.yaml"),
      range: { start: { line: 7, character: 2 }, end: { line: 7, character: 4 } },
    },
  ]);
});

test("go to definition of a ${var} lands on its definition in vars", async () => {
  const withVars = `vars:\n  - seed: 7\n${text.replace("cmd: node src/train.js", "cmd: node src/train.js --seed ${seed}")}`;
  lsp.change(uri, withVars);
  try {
    assert.deepEqual(await lsp.definition(uri, positionOf(withVars, "${seed}", 3)), [
      { uri, range: { start: { line: 1, character: 4 }, end: { line: 1, character: 8 } } },
    ]);
  } finally {
    lsp.change(uri, text);
  }
});

test("find references of an out lists it and every dep that reads it", async () => {
  assert.deepEqual(await lsp.references(uri, positionOf(text, "data/prepared", 2, 0)), [
    { uri, range: rangeOf(text, "data/prepared", 0) },
    { uri, range: rangeOf(text, "data/prepared", 1) },
    { uri, range: rangeOf(text, "data/prepared", 2) },
  ]);
});

test("document symbols outline the stages with their fields", async () => {
  const symbols = await lsp.symbols(uri);
  assert.deepEqual(
    symbols.map((s) => [s.name, s.selectionRange, s.children?.map((c) => c.name)]),
    [
      ["prepare", stageKey("prepare"), ["cmd", "deps", "params", "outs"]],
      ["train", stageKey("train"), ["cmd", "deps", "params", "outs", "metrics", "plots"]],
      ["evaluate", stageKey("evaluate"), ["cmd", "deps", "metrics", "plots"]],
    ],
  );
});

test("code lenses run each stage and say its state", async () => {
  const lenses = await lsp.codeLenses(uri);
  assert.deepEqual(
    lenses.map((l) => [
      l.range.start.line,
      l.command?.title,
      l.command?.command,
      l.command?.arguments,
    ]),
    [
      [2, "$(play) Run stage", "lathe.runStage", ["prepare"]],
      [2, "$(circle-outline) never ran", "", undefined],
      [7, "$(play) Run stage", "lathe.runStage", ["train"]],
      [7, "$(circle-outline) never ran", "", undefined],
      [14, "$(play) Run stage", "lathe.runStage", ["evaluate"]],
      [14, "$(circle-outline) never ran", "", undefined],
    ],
  );
});

test("renaming a stage edits its name", async () => {
  assert.deepEqual(await lsp.rename(uri, positionOf(text, "  prepare:", 3), "prep"), {
    changes: { [uri]: [{ range: stageKey("prepare"), newText: "prep" }] },
  });
});

test("hover on a dep gives its id from lathe.lock and whether it changed since the stage ran", async () => {
  const csv = join(ws.root, "data/weather.csv");
  const locked = await hashPath(csv);
  await writePointer(csv, locked);
  writeFileSync(
    join(ws.root, "lathe.lock"),
    stringify({
      schema: "1.0",
      stages: { prepare: { cmd: "x", deps: [{ path: "data/weather.csv", oid: locked.oid }] } },
    }),
  );
  const short = locked.oid.slice(0, 12);
  const facts = async () => (await hoverText("data/weather.csv"))!.split("\n\n").slice(3);
  assert.deepEqual(await facts(), [
    `versioned as \`${short}\` (data/weather.csv.lathe)`,
    `id \`${short}\`, unchanged since stage 'prepare' last ran`,
  ]);

  appendFileSync(csv, "2016-01-01,0,1,0,1,sun\n");
  const now = (await hashPath(csv)).oid.slice(0, 12);
  assert.equal(
    (await facts())[1],
    `id \`${now}\`; **changed** since stage 'prepare' last ran (\`${short}\`): it is stale`,
  );
  assert.deepEqual((await hoverText("src/prepare.js", 1))!.split("\n\n").slice(3), [
    "not in lathe.lock: stage 'prepare' has not run with it yet",
  ]);
});

/** The weather pipeline with a `models:` section naming its stages (#4). */
const withModels = `${text}models:
  weather-model:
    from: train
    metrics: [evaluate]
  nightly:
    from: "train"
    metrics: evaluate
`;

/** The range of `name` at the `nth` `needle`, which it ends. */
function nameIn(source: string, needle: string, name: string, nth = 0) {
  const start = positionOf(source, needle, needle.length - name.length, nth);
  return { start, end: { line: start.line, character: start.character + name.length } };
}

test("renaming a stage renames it where models: names it, from its key or from a reference (#4)", async () => {
  lsp.change(uri, withModels);
  try {
    const expected = {
      changes: {
        [uri]: [
          { range: stageKey("train"), newText: "fit" },
          { range: nameIn(withModels, "from: train", "train"), newText: "fit" },
          { range: nameIn(withModels, 'from: "train', "train"), newText: "fit" },
        ],
      },
    };
    assert.deepEqual(await lsp.rename(uri, positionOf(withModels, "  train:", 3), "fit"), expected);
    assert.deepEqual(
      await lsp.rename(uri, positionOf(withModels, "from: train", 7), "fit"),
      expected,
    );
    assert.deepEqual(await lsp.prepareRename(uri, positionOf(withModels, "[evaluate]", 2)), {
      range: nameIn(withModels, "[evaluate", "evaluate"),
      placeholder: "evaluate",
    });
  } finally {
    lsp.change(uri, text);
  }
});

test("renaming a stage to a name in use or to an invalid name is refused with the reason (#4)", async () => {
  lsp.change(uri, withModels);
  try {
    const at = positionOf(withModels, "  train:", 3);
    await assert.rejects(lsp.rename(uri, at, "evaluate"), {
      message: "a stage named 'evaluate' already exists (line 15)",
    });
    await assert.rejects(lsp.rename(uri, at, "fit model"), {
      message:
        "'fit model' is not a valid stage name: use letters, digits, '_', '.' and '-', not starting with '.' or '-'",
    });
    await assert.rejects(lsp.rename(uri, at, "fit@big"), /'fit@big' is not a valid stage name/);

    const typo = withModels.replace("from: train\n", "from: trian\n");
    lsp.change(uri, typo);
    await assert.rejects(lsp.prepareRename(uri, positionOf(typo, "from: trian", 7)), {
      message: "'trian' names no stage of this file, so there is nothing to rename",
    });
  } finally {
    lsp.change(uri, text);
  }
});

test("go to definition and find references of a stage named in models: (#4)", async () => {
  lsp.change(uri, withModels);
  try {
    assert.deepEqual(await lsp.definition(uri, positionOf(withModels, "from: train", 8)), [
      { uri, range: stageKey("train") },
    ]);
    const hover = await lsp.hover(uri, positionOf(withModels, "from: train", 8));
    assert.match((hover?.contents as MarkupContent).value, /^\*\*stage train\*\*/);
    const evaluate = [
      { uri, range: stageKey("evaluate") },
      { uri, range: nameIn(withModels, "[evaluate", "evaluate") },
      { uri, range: nameIn(withModels, "metrics: evaluate", "evaluate") },
    ];
    assert.deepEqual(await lsp.references(uri, positionOf(withModels, "[evaluate]", 3)), evaluate);
    assert.deepEqual(await lsp.references(uri, positionOf(withModels, "  evaluate:", 4)), evaluate);
  } finally {
    lsp.change(uri, text);
  }
});

test("renaming a foreach stage keeps the @key of the generated names models: uses (#4)", async () => {
  const grouped = `${text.replace("  train:\n", "  train:\n    foreach: [small, big]\n    do:\n").replace(/\n    (cmd|deps|params|outs|metrics|plots): (.*train)/g, "\n      $1: $2")}models:
  weather-model:
    from: train@small
    metrics: [evaluate]
`;
  lsp.change(uri, grouped);
  try {
    const edit = await lsp.rename(uri, positionOf(grouped, "from: train@small", 6), "fit");
    assert.deepEqual(edit?.changes?.[uri], [
      { range: nameIn(grouped, "\n  train", "train"), newText: "fit" },
      { range: nameIn(grouped, "from: train", "train"), newText: "fit" },
    ]);
  } finally {
    lsp.change(uri, text);
  }
});
