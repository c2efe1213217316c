import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import { selectStages, buildDag } from "../../daemon/src/pipeline/dag";
import { loadPipeline, parsePipeline } from "../../daemon/src/pipeline/parse";
import { repro } from "../../daemon/src/services/repro";
import { removeDir, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

const files: Record<string, string> = {
  "params.yaml": "train:\n  lr: 0.1\n  layers: [8, 4]\n",
  "regions.yaml": "regions: [us, eu]\nunused: 1\n",
};
const readFile = (path: string) => files[path];

// Flow sequences cannot hold `${…}` (braces end them), so lists here are block lists.
const pipeline = `vars:
  - regions.yaml:regions
  - models:
      small: {size: 1}
      big: {size: 9}
    out_dir: results
stages:
  prep:
    foreach: \${regions}
    do:
      cmd: node -e "require('fs').writeFileSync('\${out_dir}/\${item}.txt', '\${train.lr}')"
      outs:
        - \${out_dir}/\${item}.txt
  fit:
    foreach: \${models}
    do:
      cmd: echo --size \${item.size} --name \${key} --layers \${train.layers}
      deps:
        - \${out_dir}/us.txt
  grid:
    matrix:
      opt: [adam, sgd]
      lr: [0.1, 0.01]
    cmd: echo \${item.opt} \${item.lr}
`;

test("foreach over a list and a mapping, and matrix, name and fill in each stage", () => {
  const parsed = parsePipeline("lathe.yaml", pipeline, { readFile });
  assert.deepEqual(
    parsed.stages.map((s) => [s.name, s.group, s.cmd]),
    [
      ["prep@us", "prep", `node -e "require('fs').writeFileSync('results/us.txt', '0.1')"`],
      ["prep@eu", "prep", `node -e "require('fs').writeFileSync('results/eu.txt', '0.1')"`],
      ["fit@small", "fit", "echo --size 1 --name small --layers 8 4"],
      ["fit@big", "fit", "echo --size 9 --name big --layers 8 4"],
      ["grid@adam-0.1", "grid", "echo adam 0.1"],
      ["grid@adam-0.01", "grid", "echo adam 0.01"],
      ["grid@sgd-0.1", "grid", "echo sgd 0.1"],
      ["grid@sgd-0.01", "grid", "echo sgd 0.01"],
    ],
  );
  const prepEu = parsed.stages[1]!;
  assert.equal(prepEu.outs[0]!.wsPath, "results/eu.txt");
  assert.deepEqual(prepEu.outs[0]!.pos, { line: 13, col: 11 }); // where the template is written
  assert.deepEqual(prepEu.pos, { line: 8, col: 3 });

  const dag = buildDag(parsed);
  assert.deepEqual([...dag.upstream.get("fit@big")!], ["prep@us"]);
  assert.deepEqual(
    selectStages(dag, ["fit"]).map((s) => s.name),
    ["prep@us", "fit@small", "fit@big"],
  );
});

test("template errors name file:line:col of the ${…} and what is wrong", () => {
  const fails = (text: string, pattern: RegExp) =>
    assert.throws(() => parsePipeline("lathe.yaml", text, { readFile }), pattern);
  fails(
    "stages:\n  a:\n    cmd: echo ${train.lrr}\n",
    /: lathe\.yaml:3:15: stage 'a': unknown variable 'train\.lrr' in '\$\{train\.lrr\}'; defined here: lr, layers$/,
  );
  fails(
    "stages:\n  a:\n    cmd: echo ${train}\n",
    /: lathe\.yaml:3:15: stage 'a': '\$\{train\}' is a mapping; Lathe does not unpack it/,
  );
  fails(
    "stages:\n  a:\n    cmd: echo ${a + b}\n",
    /: lathe\.yaml:3:15: stage 'a': '\$\{a \+ b\}' is not supported/,
  );
  fails(
    "vars:\n  - missing.yaml\nstages:\n  a:\n    cmd: x\n",
    /: lathe\.yaml:2:5: vars file missing\.yaml does not exist$/,
  );
  fails(
    "stages:\n  a:\n    foreach: [x, x]\n    do:\n      cmd: echo\n",
    /: lathe\.yaml:2:3: two stages are named 'a@x'/,
  );
  fails(
    "stages:\n  a:\n    foreach: [x]\n    cmd: echo\n",
    /: lathe\.yaml:4:5: stage 'a': a foreach stage has only 'foreach' and 'do'; move 'cmd' into 'do'$/,
  );
  assert.equal(
    parsePipeline("lathe.yaml", "stages:\n  a:\n    cmd: echo \\${literal}\n").stages[0]!.cmd,
    "echo ${literal}",
  );
});

let root: string;
let ctx: Context;

before(async () => {
  root = await tempDir("lathe-language-");
  writeFiles(root, { ...files, "lathe.yaml": pipeline, "results/.keep": "" });
  ctx = openContext(root, { quiet: true });
});

after(async () => {
  closeContext(ctx);
  await removeDir(root);
});

test("a vars file outside the workspace is refused with the line that names it", () => {
  writeFiles(root, { "lathe.yaml": "vars:\n  - ../../etc/passwd\nstages:\n  a:\n    cmd: x\n" });
  assert.throws(
    () => loadPipeline(root),
    /lathe\.yaml:2:5: The vars file '\.\.\/\.\.\/etc\/passwd' is outside /,
  );
  writeFiles(root, { "lathe.yaml": pipeline });
});

test("a templated, generated pipeline runs; selecting a group runs its stages", async () => {
  const result = await repro(ctx, { stages: ["prep"] });
  assert.deepEqual(
    result.stages.map((s) => [s.stage, s.status]),
    [
      ["prep@us", "ran"],
      ["prep@eu", "ran"],
    ],
  );
  assert.equal(readFileSync(join(root, "results/eu.txt"), "utf8"), "0.1");
  const all = await repro(ctx);
  assert.equal(all.ok, true);
  assert.equal(all.stages.length, 8);
});
