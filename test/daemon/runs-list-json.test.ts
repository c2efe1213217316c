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
import { setRunLifecycle } from "../../daemon/src/tracking/records";
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
  ];
  for (const filter of filters) {
    const expected = JSON.parse(JSON.stringify(listRuns(db, filter))) as unknown;
    assert.deepEqual(JSON.parse(listRunsJson(db, filter)), expected, JSON.stringify(filter));
  }
  assert.equal(listRuns(db, {}).length, 4);
  assert.equal(listRunsJson(db, { experimentId: "none" }), "[]");
});
