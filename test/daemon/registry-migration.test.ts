/**
 * The registry migration of #5 on a database written before it: the audit log is rebuilt with
 * its rows and ids kept (its CHECK now allows version deletions and renames), and each model's
 * last_version starts at its highest version, so that a delete after the upgrade does not hand
 * out that number again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SCHEMA_VERSION, openDb } from "../../daemon/src/store/db";

/** The schema version that the registry migration of #5 brings a database to. */
const REGISTRY_VERSION = 9;
import { removeDir, tempDir } from "../helpers";

test("an older database keeps its audit log and gets last_version from its versions", async () => {
  const dir = await tempDir("lathe-registry-migration-");
  const path = join(dir, "lathe.db");
  try {
    const old = openDb(path, REGISTRY_VERSION - 1);
    old.exec(`
      INSERT INTO experiments (id, name, created_at) VALUES ('0', 'Default', 1);
      INSERT INTO runs (id, experiment_id, name, status, start_time) VALUES ('r', '0', 'train', 'FINISHED', 1);
      INSERT INTO models (name, created_at) VALUES ('iris', 1), ('empty', 1);
      INSERT INTO model_versions (model, version, run_id, oid, path, signature, metrics, params, created_at)
        VALUES ('iris', 1, 'r', 'a', 'm.onnx', '{}', '{}', '{}', 1),
               ('iris', 4, 'r', 'b', 'm.onnx', '{}', '{}', '{}', 2);
      INSERT INTO registry_audit (model, kind, name, from_value, to_value, reason, actor, at)
        VALUES ('iris', 'alias', 'champion', NULL, '1', 'first', 'cli', 10),
               ('iris', 'stage', '4', 'None', 'Production', '', 'editor', 11);
    `);
    assert.throws(
      () =>
        old
          .prepare(
            "INSERT INTO registry_audit (model, kind, name, at) VALUES ('iris', 'rename', 'name', 12)",
          )
          .run(),
      /CHECK constraint failed/,
    );
    old.close();

    const db = openDb(path);
    try {
      assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(
        db
          .prepare(
            "SELECT id, model, kind, name, from_value, to_value, reason, actor, at FROM registry_audit ORDER BY id",
          )
          .all(),
        [
          {
            id: 1,
            model: "iris",
            kind: "alias",
            name: "champion",
            from_value: null,
            to_value: "1",
            reason: "first",
            actor: "cli",
            at: 10,
          },
          {
            id: 2,
            model: "iris",
            kind: "stage",
            name: "4",
            from_value: "None",
            to_value: "Production",
            reason: "",
            actor: "editor",
            at: 11,
          },
        ],
      );
      db.prepare(
        "INSERT INTO registry_audit (model, kind, name, at) VALUES ('iris', 'version', '4', 13), ('iris', 'rename', 'name', 14)",
      ).run();
      // The id sequence goes on after the copied rows.
      assert.deepEqual(
        db
          .prepare("SELECT id FROM registry_audit ORDER BY id")
          .all()
          .map((r) => (r as { id: number }).id),
        [1, 2, 3, 4],
      );
      assert.throws(
        () =>
          db
            .prepare(
              "INSERT INTO registry_audit (model, kind, name, at) VALUES ('iris', 'bogus', 'x', 15)",
            )
            .run(),
        /CHECK constraint failed/,
      );
      assert.deepEqual(db.prepare("SELECT name, last_version FROM models ORDER BY name").all(), [
        { name: "empty", last_version: 0 },
        { name: "iris", last_version: 4 },
      ]);
      const index = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'registry_audit'",
        )
        .all();
      assert.deepEqual(index, [{ name: "registry_audit_by_model" }]);
    } finally {
      db.close();
    }
  } finally {
    await removeDir(dir);
  }
});
