import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// The CLI tests spawn the built CLI: run `npm run build` first.

/** A pipeline with one stage whose `field` lists `path`, and a params file in a folder. */
function pipeline(field: string, path: string): string {
  return `vars: [conf.yaml]
stages:
  s:
    cmd: echo hi
    params: [lr, {config/train.yaml: [seed]}]
    ${field}: [${path}]
`;
}

const parse = (text: string) =>
  parsePipeline("lathe.yaml", text, { readFile: () => "lr: 1\nseed: 2\n" });

void test("an output may not be the workspace, .git/, .lathe/ or a file the pipeline is made of", () => {
  const cases: [string, string, RegExp][] = [
    ["outs", '"."', /'outs' path '\.' is the workspace itself; lathe repro deletes/],
    ["outs", '""', /'outs' path '' is the workspace itself/],
    ["outs", '"./"', /'outs' path '\.\/' is the workspace itself/],
    ["outs", "src/..", /'outs' path 'src\/\.\.' is the workspace itself/],
    ["outs", ".git", /'outs' path '\.git' is inside \.git\/, which holds git's own state/],
    ["outs", "vendor/lib/.git/hooks", /is inside \.git\//],
    ["outs", ".lathe", /'outs' path '\.lathe' is inside \.lathe\/, which holds Lathe's own/],
    ["metrics", ".lathe/m.json", /'metrics' path '\.lathe\/m\.json' is inside \.lathe\//],
    ["plots", ".git/h.csv", /'plots' path '\.git\/h\.csv' is inside \.git\//],
    ["outs", "lathe.yaml", /'outs' path 'lathe\.yaml' is a pipeline file, which git tracks/],
    ["outs", "dvc.yaml", /is a pipeline file/],
    ["outs", "lathe.lock", /'outs' path 'lathe\.lock' is the pipeline's lock file/],
    ["outs", "params.yaml", /is the params file of stage 's' \(lathe\.yaml:5:14\)/],
    [
      "metrics",
      "config",
      /'metrics' path 'config' holds config\/train\.yaml, the params file of stage 's' \(lathe\.yaml:5:39\), which git tracks with the code; lathe repro deletes a stage's outputs before it runs$/,
    ],
    ["outs", "conf.yaml", /'outs' path 'conf\.yaml' is a vars file/],
  ];
  for (const [field, path, message] of cases) {
    assert.throws(
      () => parse(pipeline(field, path)),
      (err: Error & { code?: string }) => {
        assert.equal(err.name, "LATHE_BAD_FILE", path);
        assert.match(err.message, /^lathe\.yaml:6:\d+: stage 's': /, path);
        assert.match(err.message, message, path);
        return true;
      },
    );
  }
  assert.equal(
    parse(pipeline("outs", "out/model.bin")).stages[0]!.outs[0]!.wsPath,
    "out/model.bin",
  );
});

void test("a dep may read the pipeline's files and .git/, but not the workspace or .lathe/", () => {
  for (const dep of ["params.yaml", "lathe.yaml", "lathe.lock", ".git/HEAD", "config"]) {
    assert.equal(parse(pipeline("deps", dep)).stages[0]!.deps[0]!.wsPath, dep);
  }
  assert.throws(
    () => parse(pipeline("deps", '"."')),
    /lathe\.yaml:6:12: stage 's': 'deps' path '\.' is the workspace itself, which holds \.lathe\/ \(Lathe's database and cache, changed by every repro\), so the stage would never be up to date/,
  );
  assert.throws(() => parse(pipeline("deps", ".lathe/lathe.db")), /is inside \.lathe\/ \(Lathe's/);
});

void test("lathe repro refuses such an output before anything is deleted, exit 2", async () => {
  const root = await tempDir("lathe-reserved-");
  mkdirSync(join(root, "src"));
  writeFiles(root, {
    "src/a.txt": "a\n",
    "params.yaml": "lr: 1\n",
    "lathe.lock": "schema: '1.0'\nstages: {}\n",
  });
  execFileSync("git", ["init", "-q"], { cwd: root });
  assert.equal((await runCli(["init"], { cwd: root })).code, 0);
  const survivors = [".git/HEAD", ".lathe/lathe.db", "src/a.txt", "params.yaml", "lathe.lock"];

  for (const out of [
    '"."',
    '""',
    '"./"',
    "src/..",
    ".git",
    ".lathe",
    "params.yaml",
    "lathe.lock",
  ]) {
    writeFiles(root, {
      "lathe.yaml": `stages:\n  s:\n    cmd: echo hi\n    params: [lr]\n    outs: [${out}]\n`,
    });
    const res = await runCli(["repro"], { cwd: root });
    assert.equal(res.code, 2, `${out}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, /^lathe: lathe\.yaml:5:12: stage 's': 'outs' path '/, out);
    for (const path of [...survivors, "lathe.yaml"]) {
      assert.ok(existsSync(join(root, path)), `outs: [${out}] deleted ${path}`);
    }
  }
  assert.equal(readFileSync(join(root, "src/a.txt"), "utf8"), "a\n");
  await removeDir(root);
});
