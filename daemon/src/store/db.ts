/**
 * Opens `.lathe/lathe.db` (SQLite in WAL mode) and brings its schema up to date. The schema
 * version is SQLite's `user_version`; each migration runs once, in its own transaction.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { LatheError } from "../errors";

export type Db = Database.Database;

/** Append only: a released migration is never edited, a change is a new entry. */
const migrations: string[] = [
  `
  CREATE TABLE experiments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    experiment_id TEXT NOT NULL REFERENCES experiments(id),
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES runs(id),
    stage TEXT,
    status TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER,
    exit_code INTEGER,
    command TEXT,
    cwd TEXT,
    git_commit TEXT,
    git_dirty INTEGER,
    log TEXT NOT NULL DEFAULT '',
    error TEXT
  );
  CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
  CREATE INDEX runs_by_parent ON runs(parent_id);
  CREATE TABLE params (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  );
  -- value is REAL; NaN cannot be stored in SQLite REAL, so special values are kept in text.
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value REAL,
    text TEXT,
    step INTEGER NOT NULL DEFAULT 0,
    timestamp INTEGER NOT NULL
  );
  CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step);
  CREATE TABLE run_files (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    path TEXT NOT NULL,
    oid TEXT NOT NULL,
    PRIMARY KEY (run_id, direction, path)
  );
  CREATE TABLE models (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE model_versions (
    model TEXT NOT NULL REFERENCES models(name),
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(id),
    oid TEXT NOT NULL,
    path TEXT NOT NULL,
    signature TEXT NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (model, version)
  );
  CREATE TABLE deployments (
    name TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    port INTEGER,
    pid INTEGER,
    started_at INTEGER NOT NULL,
    error TEXT
  );
  `,
  `
  -- Tracking (#3): what the MLflow tracking API needs. Runs and experiments get a lifecycle
  -- (active/deleted); latest_metrics keeps each run's latest point per key (highest step, then
  -- newest) so that search and the runs list never scan the metrics table.
  ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
  ALTER TABLE runs ADD COLUMN deleted_time INTEGER;
  ALTER TABLE runs ADD COLUMN user_id TEXT;
  ALTER TABLE experiments ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
  ALTER TABLE experiments ADD COLUMN artifact_location TEXT;
  ALTER TABLE experiments ADD COLUMN last_update_time INTEGER;
  CREATE TABLE experiment_tags (
    experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
  );
  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    oid TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
  );
  CREATE TABLE latest_metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value REAL,
    text TEXT,
    step INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
  );
  INSERT INTO latest_metrics (run_id, key, value, text, step, timestamp)
    SELECT run_id, key, value, text, step, timestamp FROM (
      SELECT m.*, ROW_NUMBER() OVER (
        PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC, rowid DESC) AS rn
      FROM metrics m)
    WHERE rn = 1;
  `,
  // Pipeline (#4): the run cache (stage inputs → the run that produced its outputs) and the
  // hash cache (a file's size, mtime, ctime and inode → its blob id, so unchanged files are not
  // re-read).
  `
  CREATE TABLE run_cache (
    key TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    outs TEXT NOT NULL,
    restorable INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE hash_cache (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    ctime_ns TEXT NOT NULL,
    ino TEXT NOT NULL,
    oid TEXT NOT NULL
  );
  `,
  // Registry (#5): lineage and notes on versions, MLflow-style stages, tags, aliases and the
  // audit log of every alias and stage move. Old versions keep defaults; their run still holds
  // their lineage.
  `
  ALTER TABLE model_versions ADD COLUMN git_commit TEXT;
  ALTER TABLE model_versions ADD COLUMN data_ids TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE model_versions ADD COLUMN description TEXT NOT NULL DEFAULT '';
  ALTER TABLE model_versions ADD COLUMN stage TEXT NOT NULL DEFAULT 'None';
  ALTER TABLE model_versions ADD COLUMN gate TEXT;
  ALTER TABLE model_versions ADD COLUMN updated_at INTEGER;
  CREATE TABLE model_tags (
    model TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model, key)
  );
  CREATE TABLE model_version_tags (
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model, version, key),
    FOREIGN KEY (model, version) REFERENCES model_versions(model, version) ON DELETE CASCADE
  );
  CREATE TABLE model_aliases (
    model TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (model, alias)
  );
  CREATE TABLE registry_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('alias', 'stage')),
    name TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL
  );
  CREATE INDEX registry_audit_by_model ON registry_audit(model, id);
  `,
  `
  -- Serving (#5): what a deployment was asked for (target, traffic split, batching options as
  -- JSON) and how often its worker was restarted after a crash.
  ALTER TABLE deployments ADD COLUMN target TEXT;
  ALTER TABLE deployments ADD COLUMN traffic TEXT;
  ALTER TABLE deployments ADD COLUMN options TEXT;
  ALTER TABLE deployments ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
  `,
  // Tracking (#3): metric rollups, per run, key and step bucket, so a long history is downsampled
  // from a few hundred rows (store/rollups.ts). Series already stored are rolled up when first read.
  `
  CREATE TABLE metric_rollups (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    width INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    -- first, last, min, max and first NaN point: 20 float64s (store/rollups.ts, pack()).
    points BLOB NOT NULL,
    PRIMARY KEY (run_id, key, width, bucket)
  ) WITHOUT ROWID;
  CREATE TABLE metric_rollups_pending (
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  INSERT INTO metric_rollups_pending (run_id, key) SELECT run_id, key FROM latest_metrics;
  `,
  // Tracking (#3): a write of metric points queues its rowid range, and the rollups are folded
  // after the request (store/rollups.ts, foldQueued). Writes so far were rolled up as they came.
  `
  CREATE TABLE metric_rollups_queue (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    first_rowid INTEGER NOT NULL,
    last_rowid INTEGER NOT NULL
  );
  CREATE INDEX metric_rollups_queue_by_run ON metric_rollups_queue(run_id, id);
  `,
  // Tracking (#3): each run's list entry as JSON, made when a list first needs it
  // (store/runs-json.ts) and dropped by these triggers when anything it shows changes.
  `
  CREATE TABLE run_summaries (
    run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    json TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TRIGGER run_summaries_params_insert AFTER INSERT ON params
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.run_id; END;
  CREATE TRIGGER run_summaries_params_update AFTER UPDATE ON params
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.run_id; END;
  CREATE TRIGGER run_summaries_params_delete AFTER DELETE ON params
    BEGIN DELETE FROM run_summaries WHERE run_id = OLD.run_id; END;
  CREATE TRIGGER run_summaries_tags_insert AFTER INSERT ON tags
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.run_id; END;
  CREATE TRIGGER run_summaries_tags_update AFTER UPDATE ON tags
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.run_id; END;
  CREATE TRIGGER run_summaries_tags_delete AFTER DELETE ON tags
    BEGIN DELETE FROM run_summaries WHERE run_id = OLD.run_id; END;
  CREATE TRIGGER run_summaries_latest_metrics_insert AFTER INSERT ON latest_metrics
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.run_id; END;
  CREATE TRIGGER run_summaries_latest_metrics_update AFTER UPDATE ON latest_metrics
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.run_id; END;
  CREATE TRIGGER run_summaries_latest_metrics_delete AFTER DELETE ON latest_metrics
    BEGIN DELETE FROM run_summaries WHERE run_id = OLD.run_id; END;
  CREATE TRIGGER run_summaries_runs_update AFTER UPDATE OF experiment_id, name, parent_id, stage,
    status, start_time, end_time, exit_code, command, git_commit, git_dirty, lifecycle_stage ON runs
    BEGIN DELETE FROM run_summaries WHERE run_id = NEW.id; END;
  CREATE TRIGGER run_summaries_experiments_update AFTER UPDATE OF name ON experiments
    BEGIN
      DELETE FROM run_summaries WHERE run_id IN (SELECT id FROM runs WHERE experiment_id = NEW.id);
    END;
  `,
  // Registry (#5): the audit log records version deletions and renames too (so its CHECK is
  // widened, which SQLite does by rebuilding the table), and a model keeps the highest version
  // number it ever had, so that a version number is never reused after a delete (as in MLflow).
  `
  CREATE TABLE registry_audit_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('alias', 'stage', 'version', 'rename')),
    name TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL
  );
  INSERT INTO registry_audit_next (id, model, kind, name, from_value, to_value, reason, actor, at)
    SELECT id, model, kind, name, from_value, to_value, reason, actor, at FROM registry_audit;
  DROP TABLE registry_audit;
  ALTER TABLE registry_audit_next RENAME TO registry_audit;
  CREATE INDEX registry_audit_by_model ON registry_audit(model, id);
  ALTER TABLE models ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
  UPDATE models SET last_version =
    (SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = models.name);
  `,
  // Pipeline: a stage run's process group (its shell's pid) and when that shell started, so that
  // a repro that finds a run left RUNNING by a killed CLI can stop what is still running of it.
  `
  ALTER TABLE runs ADD COLUMN pgid INTEGER;
  ALTER TABLE runs ADD COLUMN pgid_start TEXT;
  `,
  // Registry: the stage each of a version's metrics came from, so that a gate compares test
  // accuracy with test accuracy (registry/gates.ts). '{}' for versions registered before.
  `
  ALTER TABLE model_versions ADD COLUMN metric_stages TEXT NOT NULL DEFAULT '{}';
  `,
  // Tracking (#3): a rollup also keeps its bucket's first and last point by time, so that a
  // history by time is drawn from rollups too (store/rollups.ts). Rollups stored without them are
  // dropped, and each series is rolled up again when it is first read.
  `
  DELETE FROM metric_rollups;
  INSERT OR IGNORE INTO metric_rollups_pending (run_id, key) SELECT run_id, key FROM latest_metrics;
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** `upTo` stops at an older schema version: for tests of a migration, on the data before it. */
export function openDb(path: string, upTo = migrations.length): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = loadDatabase(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db, path, upTo);
  return db;
}

function migrate(db: Db, path: string, upTo: number): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > migrations.length) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `${path} has schema version ${current}, newer than this Lathe knows (${migrations.length}). Update Lathe.`,
      { path, version: current },
    );
  }
  for (let v = current; v < Math.min(upTo, migrations.length); v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * better-sqlite3 is not N-API: its binary works only under the Node ABI it was built for (the
 * package builds on and for Node 20). Say that plainly instead of Node's NODE_MODULE_VERSION text.
 */
function loadDatabase(path: string): Db {
  try {
    return new Database(path);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)) {
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        `Lathe's SQLite module was built for another Node.js version than ${process.version} (${process.execPath}). Run Lathe with Node.js 20 (setting lathe.nodePath), or rebuild with 'npm rebuild better-sqlite3' under this node.`,
        { node: process.version, abi: process.versions.modules },
      );
    }
    throw err;
  }
}
