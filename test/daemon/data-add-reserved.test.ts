import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { removeDir, runCli, tempDir } from "../helpers";

// These spawn the built CLI: run `node scripts/build.mjs --quiet` first.

const pipeline = `stages:
  prepare:
    cmd: python prepare.py
    deps: [data/raw.csv]
    params:
      - config/params.yaml: [seed]
    outs: [data/prepared]
  train:
    cmd: python train.py
    deps: [data/prepared]
    params: [lr]
    metrics: [metrics.json]
`;

async function pipelineWorkspace(yaml = pipeline): Promise<string> {
  const root = await tempDir();
  assert.equal((await runCli(["init"], { cwd: root })).code, 0);
  await mkdir(join(root, "data/prepared"), { recursive: true });
  await mkdir(join(root, "config"), { recursive: true });
  await writeFile(join(root, "lathe.yaml"), yaml);
  await writeFile(join(root, "lathe.lock"), "schema: '2.0'\nstages: {}\n");
  await writeFile(join(root, "dvc.yaml"), "stages: {}\n");
  await writeFile(join(root, "params.yaml"), "lr: 0.1\n");
  await writeFile(join(root, "config/params.yaml"), "seed: 1\n");
  await writeFile(join(root, "metrics.json"), "{}\n");
  await writeFile(join(root, "data/raw.csv"), "x\n1\n");
  await writeFile(join(root, "data/prepared/part-0.csv"), "x\n1\n");
  return root;
}

async function refused(root: string, path: string, expected: RegExp): Promise<void> {
  const res = await runCli(["add", path], { cwd: root });
  assert.equal(res.code, 2, `${path}: ${res.stdout}${res.stderr}`);
  assert.match(res.stderr, expected, path);
  assert.ok(!existsSync(join(root, `${path}.lathe`)), `${path}.lathe was written`);
}

void test("add refuses the pipeline's own files and says why", async () => {
  const root = await pipelineWorkspace();
  await refused(root, "lathe.yaml", /Cannot add lathe\.yaml: it is a pipeline file: git must/);
  await refused(root, "dvc.yaml", /Cannot add dvc\.yaml: it is a pipeline file/);
  await refused(root, "lathe.lock", /Cannot add lathe\.lock: it is the pipeline's lock file/);
  await refused(
    root,
    "params.yaml",
    /Cannot add params\.yaml: it is the params file of stage 'train' \(lathe\.yaml:11:\d+\)/,
  );
  await refused(root, "config", /Cannot add config: it holds config\/params\.yaml, the params/);
  await refused(root, "metrics.json", /metrics\.json is an output of stage 'train'/);
  await refused(root, ".lathe/cache", /inside \.lathe\/ or \.git\//);
  assert.ok(
    !existsSync(join(root, ".gitignore")) ||
      !/lathe\.yaml/.test(await readFile(join(root, ".gitignore"), "utf8")),
  );
  await removeDir(root);
});

void test("add refuses a stage output, a path inside one and a folder holding one", async () => {
  const root = await pipelineWorkspace();
  const why = "lathe repro versions it in lathe\\.lock; add the stage's inputs instead";
  await refused(
    root,
    "data/prepared",
    new RegExp(`Cannot add data/prepared: data/prepared is an output of stage 'prepare': ${why}`),
  );
  await refused(
    root,
    "data/prepared/part-0.csv",
    new RegExp(`it is inside data/prepared, an output of stage 'prepare': ${why}`),
  );
  await refused(root, "data", /Cannot add data: it holds data\/prepared, an output of stage/);

  // Refused before anything is added, so the good path given with it is not added either.
  const mixed = await runCli(["add", "data/raw.csv", "data/prepared"], { cwd: root });
  assert.equal(mixed.code, 2, mixed.stderr);
  assert.ok(!existsSync(join(root, "data/raw.csv.lathe")));

  const input = await runCli(["add", "data/raw.csv"], { cwd: root });
  assert.equal(input.code, 0, input.stderr);
  await removeDir(root);
});

void test("a pipeline file that does not parse blocks no other add, and names no outputs", async () => {
  const root = await pipelineWorkspace("stages:\n  prepare: [unclosed\n");
  const res = await runCli(["add", "data/prepared"], { cwd: root });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(existsSync(join(root, "data/prepared.lathe")));
  await refused(root, "lathe.yaml", /it is a pipeline file/);
  await removeDir(root);
});
