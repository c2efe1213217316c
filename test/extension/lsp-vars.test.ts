/**
 * `${…}` through the language server over JSON-RPC (#4): completion, hover and definition read
 * the names `lathe repro` substitutes there, as dvc.yaml does: params.yaml's values (the
 * defaults), then `vars:` in order, and inside a foreach/matrix stage its `item`, `key` and
 * `item.<…>`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { MarkupContent } from "vscode-languageserver";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import { copyWorkspace, positionOf, rangeOf, repoRoot, startLsp, type Lsp } from "./lsp-client";

let lsp: Lsp;
let ws: ReturnType<typeof copyWorkspace>;
let uri: string;

before(async () => {
  ws = copyWorkspace(join(repoRoot, "examples/weather"));
  lsp = await startLsp();
  uri = ws.uri("lathe.yaml");
});
after(() => {
  lsp.close();
  ws.remove();
});

const loops = `stages:
  fit:
    foreach:
      - {size: small, depth: 2}
      - {size: big, depth: 8}
    do:
      cmd: node fit.js \${item.size} \${item.depth} \${train.lr}
      outs:
        - models/\${item.size}.onnx
  grid:
    matrix:
      opt: [adam, sgd]
      lr: [0.1, 0.01]
    cmd: node grid.js \${item.opt} \${item.lr}
  cities:
    foreach:
      paris: {lat: 48.8}
      rome: {lat: 41.9}
    do:
      cmd: node city.js \${key} \${item.lat} \${
`;

/** The engine's view of the workspace's files, to compare with. */
function readFile(path: string): string | undefined {
  try {
    return readFileSync(join(ws.root, path), "utf8");
  } catch {
    return undefined;
  }
}

async function hoverText(text: string, needle: string, nth = 0): Promise<string | undefined> {
  lsp.open(uri, text);
  const hover = await lsp.hover(uri, positionOf(text, needle, 3, nth));
  return (hover?.contents as MarkupContent | undefined)?.value;
}

test("hover on a ${…} from params.yaml gives its value and line, as lathe repro expands it", async () => {
  const text = loops.replace("${\n", "${prepare.train_years[0]}\n");

  assert.equal(await hoverText(text, "${train.lr}"), "**train.lr** = `1.0`\n\nparams.yaml, line 8");
  assert.equal(
    await hoverText(text, "${prepare.train_years[0]}"),
    "**prepare.train_years[0]** = `2012`\n\nparams.yaml, line 4",
  );
  const stages = parsePipeline("lathe.yaml", text, { readFile }).stages;
  assert.equal(stages[0]!.cmd, "node fit.js small 2 1", "the engine substitutes params.yaml's 1.0");
  assert.equal(stages.at(-1)!.cmd, "node city.js rome 41.9 2012");
});

test("go to definition of a ${…} from params.yaml lands on its key there", async () => {
  lsp.open(uri, loops);

  assert.deepEqual(await lsp.definition(uri, positionOf(loops, "${train.lr}", 9)), [
    {
      uri: ws.uri("params.yaml"),
      range: { start: { line: 7, character: 2 }, end: { line: 7, character: 4 } },
    },
  ]);
});

test("a vars: entry replaces params.yaml's top-level name whole, as the engine does", async () => {
  const text = `vars:\n  - train: {lr: 5}\n${loops.replace("${\n", "${train.epochs}\n")}`;

  assert.equal(await hoverText(text, "${train.lr}"), "**train.lr** = `5`\n\n`vars`, line 2");
  assert.equal(
    await hoverText(text, "${train.epochs}"),
    "**train.epochs**: not defined in params.yaml, vars or the stage's loop",
  );
  assert.throws(
    () => parsePipeline("lathe.yaml", text, { readFile }),
    /unknown variable 'train.epochs'/,
  );
  lsp.open(uri, text);
  assert.deepEqual(await lsp.definition(uri, positionOf(text, "${train.lr}", 9)), [
    { uri, range: { start: { line: 1, character: 12 }, end: { line: 1, character: 14 } } },
  ]);
});

test("inside a foreach's do, ${item.x} and ${key} complete, hover and go to the foreach list", async () => {
  lsp.open(uri, loops);

  const items = await lsp.completion(uri, positionOf(loops, "${\n", 2));
  assert.deepEqual(
    items.slice(0, 3).map((i) => [i.label, i.detail]),
    [
      ["key", "paris | rome (foreach of 'cities')"],
      ["item", '{"lat":48.8} | {"lat":41.9} (foreach of \'cities\')'],
      ["item.lat", "48.8 | 41.9 (foreach of 'cities')"],
    ],
  );
  assert.ok(items.some((i) => i.label === "train.lr" && i.detail === "1.0 (params.yaml)"));

  assert.equal(
    await hoverText(loops, "${item.size}"),
    "**item.size** = one of `small | big`\n\nforeach of stage 'fit', line 4",
  );
  assert.deepEqual(await lsp.definition(uri, positionOf(loops, "${item.size}", 3)), [
    { uri, range: rangeOf(loops, "size", 0) },
    { uri, range: rangeOf(loops, "size", 1) },
  ]);
  assert.deepEqual(await lsp.definition(uri, positionOf(loops, "${key}", 3)), [
    {
      uri,
      range: {
        start: positionOf(loops, "paris:"),
        end: positionOf(loops, "rome: {lat: 41.9}", "rome: {lat: 41.9}".length),
      },
    },
  ]);
});

test("inside a matrix stage, ${item.<axis>} completes with the axis's values and goes to the axis", async () => {
  const text = loops.replace("${item.opt} ${item.lr}", "${item.opt} ${it");
  lsp.open(uri, text);

  const items = await lsp.completion(uri, positionOf(text, "${it\n", 4));
  assert.deepEqual(
    items.slice(0, 2).map((i) => [i.label, i.detail]),
    [
      ["item.opt", "adam | sgd (matrix of 'grid')"],
      ["item.lr", "0.1 | 0.01 (matrix of 'grid')"],
    ],
  );
  assert.deepEqual(await lsp.definition(uri, positionOf(text, "${item.opt}", 3)), [
    { uri, range: rangeOf(text, "opt") },
  ]);
});
