/**
 * The Runs view's actions without the editor: params written back for a re-run (into a wdir
 * stage's own params.yaml, against a real daemon), the sort choices.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LatheError } from "../../daemon/src/errors";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PipelineDag, ReproResult, RunSummary } from "../../schemas/api";
import {
  applyParamEdits,
  changedParams,
  paramLocation,
  stageParamsFile,
} from "../../extension/src/runs/paramsEdit";
import { daemonIn, removeDir, tempDir } from "../helpers";
import { writeFiles } from "../daemon/pipeline-fixtures";
import { describeQuery, quoteKey, sortChoices } from "../../extension/src/runs/queryText";

const PARAMS = `# Parameters of the weather pipeline.
prepare:
  city: Seattle # the city
  train_years: [2012, 2013, 2014]
train:
  epochs: 500
  lr: 1.0
`;

test("paramLocation: plain keys are params.yaml's; file: prefixes name another file", () => {
  assert.deepEqual(paramLocation("train.lr"), { file: "params.yaml", path: ["train", "lr"] });
  assert.deepEqual(paramLocation("conf/model.yaml:net.depth"), {
    file: "conf/model.yaml",
    path: ["net", "depth"],
  });
  assert.deepEqual(paramLocation("odd:key"), { file: "params.yaml", path: ["odd:key"] });
});

test("applyParamEdits keeps comments and layout and writes typed YAML values", () => {
  const out = applyParamEdits("params.yaml", PARAMS, [
    { path: ["train", "lr"], key: "train.lr", value: "0.01" },
    { path: ["prepare", "city"], key: "prepare.city", value: "New York" },
    { path: ["prepare", "train_years"], key: "prepare.train_years", value: "[2013, 2014]" },
  ]);
  assert.match(out, /^# Parameters of the weather pipeline\.$/m);
  assert.match(out, /^ {2}lr: 0\.01$/m);
  assert.match(out, /^ {2}city: New York # the city$/m);
  assert.match(out, /^ {2}train_years: \[ 2013, 2014 \]$/m);
  assert.match(out, /^ {2}epochs: 500$/m);
});

test("applyParamEdits refuses a key the file lacks, broken YAML, and a bad value", () => {
  assert.throws(
    () =>
      applyParamEdits("params.yaml", PARAMS, [
        { path: ["train", "nope"], key: "train.nope", value: "1" },
      ]),
    (err: unknown) =>
      err instanceof LatheError && /params\.yaml has no param 'train\.nope'/.test(err.message),
  );
  assert.throws(
    () => applyParamEdits("params.yaml", "a: [1,\n", []),
    (err: unknown) =>
      err instanceof LatheError &&
      err.code === "LATHE_BAD_FILE" &&
      /^params\.yaml:2:1: not valid YAML: [^\n]*[^:\n]$/.test(err.message),
  );
  assert.throws(
    () =>
      applyParamEdits("params.yaml", PARAMS, [
        { path: ["train", "lr"], key: "train.lr", value: "[1," },
      ]),
    (err: unknown) => err instanceof LatheError && /train\.lr is not valid YAML/.test(err.message),
  );
});

test("changedParams groups the values that changed by file", () => {
  const changes = changedParams(
    { "train.lr": "1", "train.epochs": "500", "x.yaml:a": "1" },
    { "train.lr": "0.1", "train.epochs": "500", "x.yaml:a": "2" },
  );
  assert.deepEqual(
    [...changes.entries()],
    [
      ["params.yaml", [{ path: ["train", "lr"], key: "train.lr", value: "0.1" }]],
      ["x.yaml", [{ path: ["a"], key: "x.yaml:a", value: "2" }]],
    ],
  );
  assert.equal(changedParams({ a: "1" }, { a: "1" }).size, 0);
});

test("a stage with wdir keeps its unprefixed params in <wdir>/params.yaml", () => {
  assert.equal(stageParamsFile(""), "params.yaml");
  assert.equal(stageParamsFile("models/net"), "models/net/params.yaml");
  assert.deepEqual(paramLocation("train.lr", "sub/params.yaml"), {
    file: "sub/params.yaml",
    path: ["train", "lr"],
  });
  // A prefixed key names its file from the workspace root, whatever the wdir.
  assert.deepEqual(paramLocation("conf/x.yaml:a", "sub/params.yaml"), {
    file: "conf/x.yaml",
    path: ["a"],
  });
  const changes = changedParams(
    { lr: "1", "conf/x.yaml:a": "1" },
    { lr: "2", "conf/x.yaml:a": "3" },
    "sub/params.yaml",
  );
  assert.deepEqual([...changes.keys()], ["sub/params.yaml", "conf/x.yaml"]);
});

test("re-run with edited params of a wdir stage edits <wdir>/params.yaml and the new run has the value", async () => {
  const root = await tempDir("lathe-rerun-wdir-");
  writeFiles(root, {
    "lathe.yaml": `stages:
  train:
    wdir: sub
    cmd: node -e "require('fs').writeFileSync('out.txt', 'ok')"
    params: [lr]
    outs: [out.txt]
`,
    "params.yaml": "lr: 99 # the root's, not the stage's\n",
    "sub/params.yaml": "lr: 0.1 # the stage's\n",
  });
  const daemon = await daemonIn(root);
  try {
    const first = await daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {});
    const run = await daemon.client.call<RunSummary>(
      "GET",
      `/api/v1/runs/${first.stages[0]!.runId}`,
    );
    assert.deepEqual(run.params, { lr: "0.1" });
    // What rerunWithParams does, without the editor: the dag's wdir names the file to edit.
    const dag = await daemon.client.call<PipelineDag>("GET", "/api/v1/pipeline/dag");
    const wdir = dag.stages.find((st) => st.name === "train")!.wdir;
    assert.equal(wdir, "sub");
    const changes = changedParams(run.params, { lr: "0.5" }, stageParamsFile(wdir));
    for (const [file, edits] of changes) {
      const path = join(root, file);
      writeFileSync(path, applyParamEdits(file, readFileSync(path, "utf8"), edits));
    }
    assert.equal(readFileSync(join(root, "sub/params.yaml"), "utf8"), "lr: 0.5 # the stage's\n");
    assert.equal(
      readFileSync(join(root, "params.yaml"), "utf8"),
      "lr: 99 # the root's, not the stage's\n",
    );
    const again = await daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {
      stages: ["train"],
      downstream: true,
    });
    assert.equal(again.stages[0]!.status, "ran");
    const rerun = await daemon.client.call<RunSummary>(
      "GET",
      `/api/v1/runs/${again.stages[0]!.runId}`,
    );
    assert.deepEqual(rerun.params, { lr: "0.5" });
  } finally {
    await daemon.close();
    await removeDir(root);
  }
});

test("sort choices use the headline metric; odd keys are quoted; the description says both", () => {
  const orders = sortChoices("val loss").map((c) => c.order);
  assert.deepEqual(orders, [
    "",
    "start_time ASC",
    "metrics.`val loss` DESC",
    "metrics.`val loss` ASC",
    "run_name ASC",
    "custom",
  ]);
  assert.equal(quoteKey("accuracy"), "accuracy");
  assert.equal(
    describeQuery("metrics.accuracy > 0.8", "metrics.accuracy DESC"),
    "filter: metrics.accuracy > 0.8 · sort: metrics.accuracy DESC",
  );
  assert.equal(describeQuery(undefined, undefined), "");
});
