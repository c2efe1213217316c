import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import type { PipelineDag, PipelineStatus, ReproResult } from "../../schemas/api";
import { removeDir, repoRoot, runCli, tempDir } from "../helpers";

// The DVC get-started example's dvc.yaml and params.yaml, as published, with node scripts for
// its python ones (test/fixtures/dvc-pipeline/SOURCE.md). It must run as it is.
const fixture = join(repoRoot, "test", "fixtures", "dvc-pipeline");

let root: string;

before(async () => {
  root = await tempDir("lathe-dvc-");
  cpSync(fixture, root, { recursive: true });
});

after(async () => {
  await removeDir(root);
});

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));
const statuses = (r: ReproResult) => r.stages.map((s) => `${s.stage}:${s.status}`);

test("the get-started dvc.yaml runs as it is; its top-level plots are read with their files", async () => {
  const run = await runCli(["--json", "repro"], { cwd: root });
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as ReproResult;
  assert.deepEqual(statuses(result), ["prepare:ran", "featurize:ran", "train:ran", "evaluate:ran"]);
  assert.deepEqual(result.warnings, []);
  const dag = await runCli(["--json", "dag"], { cwd: root });
  assert.deepEqual((JSON.parse(dag.stdout) as PipelineDag).plots, [
    {
      id: "ROC",
      files: ["eval/live/plots/sklearn/roc/train.json", "eval/live/plots/sklearn/roc/test.json"],
    },
    { id: "Precision-Recall", files: ["eval/prc/train.json", "eval/prc/test.json"] },
    { id: "eval/importance.png", files: ["eval/importance.png"] },
  ]);
  const metrics = readJson(join(root, "eval/live/metrics.json")) as { test: { accuracy: number } };
  assert.equal(typeof metrics.test.accuracy, "number");
});

test("a featurize param change re-runs featurize and what follows, not prepare", async () => {
  const params = readFileSync(join(root, "params.yaml"), "utf8");
  writeFileSync(join(root, "params.yaml"), params.replace("max_features: 100", "max_features: 3"));
  const status = await runCli(["status", "--pipeline", "--check"], { cwd: root });
  assert.equal(status.code, 1);
  assert.match(status.stdout, /^featurize +stale: param featurize\.max_features changed$/m);

  const run = await runCli(["--json", "repro"], { cwd: root });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(statuses(JSON.parse(run.stdout) as ReproResult), [
    "prepare:skipped",
    "featurize:ran",
    "train:ran",
    "evaluate:ran",
  ]);
  assert.equal(
    (readJson(join(root, "data/features/train.json")) as { vocab: string[] }).vocab.length,
    3,
  );
});

test("a dvc feature Lathe does not support is named with its file:line:col", async () => {
  const dvc = readFileSync(join(root, "dvc.yaml"), "utf8");
  writeFileSync(
    join(root, "dvc.yaml"),
    dvc.replace("  train:\n", "  train:\n    vars:\n      - extra: 1\n"),
  );
  const run = await runCli(["repro"], { cwd: root });
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /dvc\.yaml:23:5: stage 'train': stage-level 'vars' are not supported by Lathe; move them to the top-level 'vars'/,
  );
});

test("stage-level vars used by the stage are named as unsupported, not as an unknown variable (#4)", () => {
  const used = "stages:\n  train:\n    vars:\n      - lr: 1\n    cmd: python train.py ${lr}\n";
  assert.throws(
    () => parsePipeline("dvc.yaml", used),
    /dvc\.yaml:3:5: stage 'train': stage-level 'vars' are not supported by Lathe; move them to the top-level 'vars'$/,
  );
  const inDo =
    "stages:\n  t:\n    foreach: [a, b]\n    do:\n      vars: [{x: 1}]\n      cmd: echo ${x}\n";
  assert.throws(
    () => parsePipeline("dvc.yaml", inDo),
    /dvc\.yaml:5:7: stage 't': stage-level 'vars' are not supported by Lathe/,
  );
});

test("a URL dep or out is refused at its position, not read as a workspace path (#4)", () => {
  for (const url of [
    "https://example.com/x.csv",
    "s3://bucket/x.csv",
    "gs://b/x",
    "azure://c/x",
    "remote://r/x",
  ]) {
    assert.throws(
      () => parsePipeline("dvc.yaml", `stages:\n  get:\n    cmd: x\n    deps:\n      - ${url}\n`),
      new RegExp(
        `dvc\\.yaml:5:9: stage 'get': 'deps' entry '${url.replace(/\./g, "\\.")}' is a URL; Lathe reads workspace paths only \\(dvc import-url is not supported\\): download it into the workspace and list the file$`,
      ),
    );
  }
  assert.throws(
    () =>
      parsePipeline("dvc.yaml", "stages:\n  put:\n    cmd: x\n    outs: [s3://bucket/model.pkl]\n"),
    /dvc\.yaml:4:12: stage 'put': 'outs' entry 's3:\/\/bucket\/model\.pkl' is a URL; Lathe writes workspace paths only/,
  );
});

test("a whole params file (null or empty list) is refused at its position (#4)", () => {
  for (const entry of ["- params.yaml:", "- params.yaml: []", "- params.yaml: null"]) {
    assert.throws(
      () => parsePipeline("dvc.yaml", `stages:\n  t:\n    cmd: x\n    params:\n      ${entry}\n`),
      /dvc\.yaml:5:9: stage 't': tracking a whole params file is not supported; list its keys: \{params\.yaml: \[key, …\]\}$/,
    );
  }
});

test("a .py or .toml params file is refused, naming the file and where it is named (#4)", () => {
  for (const name of ["params.py", "config.toml"]) {
    assert.throws(
      () =>
        parsePipeline(
          "dvc.yaml",
          `stages:\n  t:\n    cmd: x\n    wdir: sub\n    params:\n      - ${name}: [lr]\n`,
        ),
      new RegExp(
        `dvc\\.yaml:6:9: stage 't': params file 'sub/${name.replace(".", "\\.")}' is not supported: params files must be YAML or JSON$`,
      ),
    );
  }
});

test("status and repro warn that dvc.lock and nested dvc.yaml files are not read (#4)", async () => {
  const ws = await tempDir("lathe-dvc-unread-");
  try {
    cpSync(fixture, ws, { recursive: true });
    writeFileSync(join(ws, "dvc.lock"), "schema: '2.0'\nstages: {}\n");
    for (const dir of ["sub", "a/b", "a/b/c", ".git/x", "node_modules/p"]) {
      mkdirSync(join(ws, dir), { recursive: true });
      writeFileSync(join(ws, dir, "dvc.yaml"), "stages: {}\n");
    }
    const lockWarning =
      "dvc.lock is not read: Lathe keeps its own lathe.lock; every stage runs once";
    const nested = ["a/b/dvc.yaml", "sub/dvc.yaml"].map(
      (f) => `${f} is not read: Lathe reads the pipeline file at the workspace root only`,
    );

    const status = await runCli(["--json", "status", "--pipeline"], { cwd: ws });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual((JSON.parse(status.stdout) as PipelineStatus).warnings, [
      lockWarning,
      ...nested,
    ]);

    const run = await runCli(["repro"], { cwd: ws });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^lathe: warning: dvc\.lock is not read: Lathe keeps its own lathe\.lock; every stage runs once$/m,
    );
    assert.match(
      run.stderr,
      /^lathe: warning: sub\/dvc\.yaml is not read: Lathe reads the pipeline file at the workspace root only$/m,
    );

    // With lathe.lock written, stages no longer all run: only the nested files are still named.
    const after = await runCli(["--json", "status", "--pipeline"], { cwd: ws });
    assert.deepEqual((JSON.parse(after.stdout) as PipelineStatus).warnings, nested);
  } finally {
    await removeDir(ws);
  }
});

test("the get-started fixture as cloned (data only as a .dvc pointer) names the pointer and what to do", async () => {
  const clone = await tempDir("lathe-dvc-clone-");
  try {
    cpSync(join(repoRoot, "test", "fixtures", "dvc-get-started"), clone, { recursive: true });
    const status = await runCli(["--json", "status", "--pipeline"], { cwd: clone });
    assert.equal(status.code, 0, status.stderr);
    const stages = (JSON.parse(status.stdout) as PipelineStatus).stages;
    assert.deepEqual(
      stages.map((s) => `${s.stage}:${s.state}`),
      ["prepare:stale", "featurize:stale", "train:stale", "evaluate:stale"],
    );
    const run = await runCli(["repro"], { cwd: clone });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /dvc\.yaml:5:7: stage 'prepare' depends on data\/data\.xml, which is tracked by DVC \(data\/data\.xml\.dvc\) and not checked out; Lathe does not read \.dvc pointer files: run 'dvc pull data\/data\.xml', then 'lathe add data\/data\.xml'/,
    );
  } finally {
    await removeDir(clone);
  }
});
