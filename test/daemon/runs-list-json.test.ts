/**
 * GET /api/v1/runs is serialized by SQLite (store/runs-json.ts, #3): it must be exactly what
 * JSON.stringify(listRuns()) gives, for every shape a run can have and every filter.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openDb, type Db } from "../../daemon/src/store/db";
import { ensureExperiment } from "../../daemon/src/store/experiments";
import {
  createRun,
  finishRun,
  listRuns,
  logMetrics,
  logParams,
  setRunTags,
  type RunFilter,
} from "../../daemon/src/store/runs";
import { listRunsJson } from "../../daemon/src/store/runs-json";
import { deleteTag, setRunLifecycle, updateRunInfo } from "../../daemon/src/tracking/records";
import { removeDir, tempDir } from "../helpers";

let dir = "";
let db: Db;
let parent = "";
let experimentId = "";

before(async () => {
  dir = await tempDir("lathe-list-json-");
  db = openDb(join(dir, "lathe.db"));
  experimentId = ensureExperiment(db, "a").id;
  const other = ensureExperiment(db, 'b ünïcode "quoted"').id;
  parent = createRun(db, { experimentId, name: "repro", startTime: 1000 });
  const child = createRun(db, {
    experimentId,
    name: "train",
    parentId: parent,
    stage: "train",
    command: 'python -c "print(1)"\n',
    gitCommit: "abc",
    gitDirty: true,
    startTime: 2000,
  });
  logParams(db, child, { lr: "0.1", ключ: "значение", empty: "" });
  logMetrics(db, child, [
    { key: "loss", value: 0.30000000000000004, step: 3, timestamp: 5 },
    { key: "loss", value: 1 / 3, step: 7, timestamp: 4 },
    { key: "nan", value: null, text: "NaN", step: -2, timestamp: 1 },
    { key: "big", value: 1e300, step: 0, timestamp: 1 },
    { key: "int", value: 3, step: 0, timestamp: 1 },
  ]);
  setRunTags(db, child, { "mlflow.runName": "train", note: "line\nbreak" });
  finishRun(db, child, { status: "FINISHED", exitCode: 0, endTime: 3000 });
  const clean = createRun(db, {
    experimentId: other,
    name: "clean",
    gitDirty: false,
    startTime: 1500,
  });
  finishRun(db, clean, { status: "FAILED", exitCode: 2, endTime: 1600 });
  const gone = createRun(db, { experimentId, name: "gone", startTime: 2500 });
  setRunLifecycle(db, gone, "deleted");
  createRun(db, { experimentId, name: "same time", startTime: 2000 });
});

after(async () => {
  db.close();
  await removeDir(dir);
});

test("the SQLite-built list equals the list of objects, serialized, for every filter", () => {
  const filters: RunFilter[] = [
    {},
    { includeDeleted: true },
    { experimentId },
    { parentId: null },
    { parentId: parent },
    { limit: 2 },
    { experimentId: "none" },
    { topLevel: true },
    { topLevel: true, includeDeleted: true },
    { limit: 2, offset: 1 },
    { offset: 3 },
    { parentId: null, limit: 1, withChildren: true },
    { experimentId, topLevel: true, limit: 1, offset: 1, withChildren: true },
    { topLevel: true, withChildren: true, includeDeleted: true },
  ];
  for (const filter of filters) {
    const expected = JSON.parse(JSON.stringify(listRuns(db, filter))) as unknown;
    assert.deepEqual(JSON.parse(listRunsJson(db, filter)), expected, JSON.stringify(filter));
  }
  assert.equal(listRuns(db, {}).length, 4);
  assert.equal(listRunsJson(db, { experimentId: "none" }), "[]");
});

test("a run's kept summary is made again after each change the list shows, and only then", () => {
  const same = (what: string) =>
    assert.deepEqual(
      JSON.parse(listRunsJson(db, { includeDeleted: true })),
      JSON.parse(JSON.stringify(listRuns(db, { includeDeleted: true }))),
      what,
    );
  const run = createRun(db, { experimentId, name: "changing", startTime: 4000 });
  same("a new run");
  const kept = () =>
    db.prepare("SELECT COUNT(*) FROM run_summaries WHERE run_id = ?").pluck().get(run);
  assert.equal(kept(), 1);
  const changes: [string, () => void][] = [
    ["a param", () => logParams(db, run, { lr: "0.5" })],
    ["a tag", () => setRunTags(db, run, { note: "first" })],
    ["a tag changed", () => setRunTags(db, run, { note: "second" })],
    ["a tag deleted", () => deleteTag(db, run, "note")],
    ["a metric", () => logMetrics(db, run, [{ key: "acc", value: 0.5, step: 1, timestamp: 1 }])],
    ["a later metric", () => logMetrics(db, run, [{ key: "acc", value: 0.7, step: 2 }])],
    ["the run's name", () => updateRunInfo(db, run, { name: "renamed" })],
    ["its end", () => finishRun(db, run, { status: "FINISHED", exitCode: 0, endTime: 5000 })],
    ["deleted", () => setRunLifecycle(db, run, "deleted")],
    ["restored", () => setRunLifecycle(db, run, "active")],
    [
      "its experiment renamed",
      () => db.prepare("UPDATE experiments SET name = 'a2' WHERE id = ?").run(experimentId),
    ],
  ];
  for (const [what, change] of changes) {
    change();
    assert.equal(kept(), 0, `${what} drops the kept summary`);
    same(what);
  }
  // The log grows while a run runs; the list does not show it, so the summary stays.
  db.prepare("UPDATE runs SET log = 'more' WHERE id = ?").run(run);
  assert.equal(kept(), 1);
});
