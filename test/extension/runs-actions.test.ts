/** Pure pieces of the Runs view's actions: params written back for a re-run, the sort choices. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LatheError } from "../../daemon/src/errors";
import { applyParamEdits, changedParams, paramLocation } from "../../extension/src/runs/paramsEdit";
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
    (err: unknown) => err instanceof LatheError && err.code === "LATHE_BAD_FILE",
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
