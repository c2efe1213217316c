/**
 * The Runs view's actions without the editor: params written back for a re-run (the stage's
 * declared params only, the run's values for those the user left alone, into a wdir stage's own
 * params.yaml; against a real daemon), the sort choices.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LatheError } from "../../daemon/src/errors";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PipelineDag, ReproResult, RunSummary } from "../../schemas/api";
import { parse } from "yaml";
import {
  applyParamEdits,
  paramLocation,
  paramsFiles,
  planRerun,
  restoredText,
  stageParamsFile,
  type RerunPlan,
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

test("planRerun writes the run's values back where the files differ, plus the edits", () => {
  const plan = planRerun({
    declared: ["prepare.city", "train.epochs", "train.lr", "x.yaml:a"],
    runParams: {
      "prepare.city": "Seattle",
      "train.epochs": "100",
      "train.lr": "0.1",
      "x.yaml:a": "1",
      model: "RandomForest", // logged by the script itself, not declared in lathe.yaml
    },
    edits: { "train.lr": "0.05" },
    files: new Map([
      ["params.yaml", PARAMS],
      ["x.yaml", "a: 1\n"],
    ]),
  });
  assert.deepEqual(plan.edited, [{ key: "train.lr", run: "0.1", value: "0.05" }]);
  // train.epochs is 500 in the file now: the run had 100, so 100 is written back and reported.
  assert.deepEqual(plan.restored, [
    { key: "train.epochs", file: "params.yaml", current: "500", run: "100" },
  ]);
  assert.equal(restoredText(plan.restored[0]!), "train.epochs: 100 (params.yaml has 500)");
  assert.deepEqual(plan.unrecorded, []);
  // Only params.yaml changes (x.yaml and prepare.city already hold the run's values).
  assert.deepEqual([...plan.byFile.keys()], ["params.yaml"]);
  const out = applyParamEdits("params.yaml", PARAMS, plan.byFile.get("params.yaml")!);
  assert.match(out, /^ {2}epochs: 100$/m);
  assert.match(out, /^ {2}lr: 0\.05$/m);
  assert.match(out, /^ {2}city: Seattle # the city$/m);
  assert.doesNotMatch(out, /model/);
});

test("planRerun keeps each value's type as the run recorded it, and adds a key the file lost", () => {
  const files = new Map([["params.yaml", 'tag: "0.7"\nversion: 2\nyears: [2013]\nname: x\n']]);
  const plan = planRerun({
    declared: ["tag", "version", "years", "name", "gone", "fresh"],
    runParams: { tag: "0.5", version: "1.10", years: "[2012,2013]", name: "", gone: "3" },
    edits: {},
    files: new Map([...files, ["params.yaml", files.get("params.yaml")! + "fresh: 1\n"]]),
  });
  assert.deepEqual(
    plan.restored.map((r) => [r.key, r.current, r.run]),
    [
      ["tag", "0.7", "0.5"],
      ["version", "2", "1.10"],
      ["years", "[2013]", "[2012,2013]"],
      ["name", "x", ""],
      ["gone", null, "3"],
    ],
  );
  // A param declared after the run ran keeps the file's value.
  assert.deepEqual(plan.unrecorded, [{ key: "fresh", current: "1" }]);
  const text = applyParamEdits(
    "params.yaml",
    files.get("params.yaml")!,
    plan.byFile.get("params.yaml")!,
  );
  // Read back as the daemon would record them, every value is the run's text again.
  assert.deepEqual(parse(text), {
    tag: "0.5", // a string key stays a string
    version: "1.10", // a number would record as 1.1
    years: [2012, 2013],
    name: "",
    gone: 3,
  });
});

test("planRerun with nothing to write, a missing params file, and a broken one", () => {
  const same = planRerun({
    declared: ["a"],
    runParams: { a: "1" },
    edits: {},
    files: new Map([["params.yaml", "a: 1\n"]]),
  });
  assert.equal(same.byFile.size, 0);
  assert.throws(
    () =>
      planRerun({
        declared: ["conf.yaml:a"],
        runParams: {},
        edits: {},
        files: new Map([["conf.yaml", undefined]]),
      }),
    (err: unknown) =>
      err instanceof LatheError && /The params file conf\.yaml does not exist/.test(err.message),
  );
  assert.throws(
    () =>
      planRerun({
        declared: ["a"],
        runParams: {},
        edits: {},
        files: new Map([["params.yaml", "a: [1,\n"]]),
      }),
    (err: unknown) => err instanceof LatheError && err.code === "LATHE_BAD_FILE",
  );
  assert.deepEqual(paramsFiles(["a", "conf/x.yaml:b", "c"], "sub/params.yaml"), [
    "sub/params.yaml",
    "conf/x.yaml",
  ]);
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
  const plan = planRerun({
    declared: ["lr", "conf/x.yaml:a"],
    runParams: { lr: "1", "conf/x.yaml:a": "1" },
    edits: { lr: "2", "conf/x.yaml:a": "3" },
    files: new Map([
      ["sub/params.yaml", "lr: 1\n"],
      ["conf/x.yaml", "a: 1\n"],
    ]),
    defaultFile: "sub/params.yaml",
  });
  assert.deepEqual([...plan.byFile.keys()], ["sub/params.yaml", "conf/x.yaml"]);
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
    const stage = dag.stages.find((st) => st.name === "train")!;
    assert.equal(stage.wdir, "sub");
    writePlan(root, rerunPlan(root, stage, run, { lr: "0.5" }));
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

test("re-running an older run offers only declared params and reproduces its values, not the files' (#3)", async () => {
  const root = await tempDir("lathe-rerun-old-");
  writeFiles(root, {
    "lathe.yaml": `stages:
  train:
    cmd: node -e "require('fs').writeFileSync('model.txt', 'ok')"
    params: [train.lr, train.epochs, {conf/model.yaml: [depth]}]
    outs: [model.txt]
`,
    "params.yaml": "train:\n  lr: 0.1 # step size\n  epochs: 10\n",
    "conf/model.yaml": "depth: 3\n",
  });
  const daemon = await daemonIn(root);
  const repro = async () => {
    const result = await daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {
      stages: ["train"],
      downstream: true,
    });
    assert.equal(result.stages[0]!.status, "ran");
    return daemon.client.call<RunSummary>("GET", `/api/v1/runs/${result.stages[0]!.runId}`);
  };
  try {
    const first = await repro();
    // The script logs params of its own, as penguins' train.py logs `model` and `sklearn_version`.
    await daemon.client.call("POST", `/api/v1/runs/${first.id}/batch`, {
      params: { model: "RandomForest", sklearn_version: "1.4.2" },
    });
    const old = await daemon.client.call<RunSummary>("GET", `/api/v1/runs/${first.id}`);
    assert.equal(old.params.model, "RandomForest");

    // Later experiments moved lr and depth on.
    writeFileSync(join(root, "params.yaml"), "train:\n  lr: 0.3 # step size\n  epochs: 10\n");
    writeFileSync(join(root, "conf/model.yaml"), "depth: 5\n");
    await repro();

    const dag = await daemon.client.call<PipelineDag>("GET", "/api/v1/pipeline/dag");
    const stage = dag.stages.find((st) => st.name === "train")!;
    assert.deepEqual(stage.params, ["train.lr", "train.epochs", "conf/model.yaml:depth"]);

    // Re-run the first run with epochs edited: lr and depth go back to the first run's values.
    const plan = rerunPlan(root, stage, old, { "train.epochs": "20" });
    assert.deepEqual(plan.restored.map(restoredText), [
      "train.lr: 0.1 (params.yaml has 0.3)",
      "conf/model.yaml:depth: 3 (conf/model.yaml has 5)",
    ]);
    writePlan(root, plan);
    assert.equal(
      readFileSync(join(root, "params.yaml"), "utf8"),
      "train:\n  lr: 0.1 # step size\n  epochs: 20\n",
    );
    const rerun = await repro();
    assert.deepEqual(rerun.params, {
      "train.lr": "0.1",
      "train.epochs": "20",
      "conf/model.yaml:depth": "3",
    });
  } finally {
    await daemon.close();
    await removeDir(root);
  }
});

/** What rerunWithParams plans, reading the files from disk. */
function rerunPlan(
  root: string,
  stage: PipelineDag["stages"][number],
  run: RunSummary,
  edits: Record<string, string>,
): RerunPlan {
  const defaultFile = stageParamsFile(stage.wdir);
  const files = new Map(
    paramsFiles(stage.params, defaultFile).map((f) => [f, readFileSync(join(root, f), "utf8")]),
  );
  return planRerun({ declared: stage.params, runParams: run.params, edits, files, defaultFile });
}

/** What rerunWithParams writes, without the editor's WorkspaceEdit. */
function writePlan(root: string, plan: RerunPlan): void {
  for (const [file, edits] of plan.byFile) {
    const path = join(root, file);
    writeFileSync(path, applyParamEdits(file, readFileSync(path, "utf8"), edits));
  }
}

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
