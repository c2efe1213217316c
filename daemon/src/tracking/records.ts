/**
 * What the tracking APIs read and write beyond store/runs.ts: a run's lifecycle (active or
 * deleted), its name, status and user, tags, and experiments with their lifecycle, artifact
 * location and tags. Synchronous SQL, so callers can group writes in one transaction.
 */
import type { RunStatus } from "../../../schemas/api";
import { LatheError } from "../errors";
import type { Db } from "../store/db";

export type Lifecycle = "active" | "deleted";

export interface RunRecord {
  id: string;
  experimentId: string;
  name: string;
  parentId: string | null;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  lifecycleStage: Lifecycle;
  userId: string | null;
}

export interface ExperimentRecord {
  id: string;
  name: string;
  createdAt: number;
  lastUpdateTime: number;
  lifecycleStage: Lifecycle;
  artifactLocation: string | null;
  tags: Record<string, string>;
}

export interface KeyValue {
  key: string;
  value: string;
}

const RUN_COLUMNS = `id, experiment_id AS experimentId, name, parent_id AS parentId, status,
  start_time AS startTime, end_time AS endTime, lifecycle_stage AS lifecycleStage,
  user_id AS userId`;

export function runRecord(db: Db, id: string): RunRecord | undefined {
  return db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id) as
    RunRecord | undefined;
}

export function runRecords(db: Db, ids: string[]): RunRecord[] {
  const sql = `SELECT ${RUN_COLUMNS} FROM runs WHERE id IN (SELECT value FROM json_each(?))`;
  const rows = db.prepare(sql).all(JSON.stringify(ids)) as RunRecord[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is RunRecord => r !== undefined);
}

/** The run, or LATHE_NOT_FOUND naming it. */
export function requireRun(db: Db, id: string): RunRecord {
  const run = runRecord(db, id);
  if (!run) {
    throw new LatheError("LATHE_NOT_FOUND", `Run with id=${id} not found`, { runId: id });
  }
  return run;
}

export function setRunLifecycle(db: Db, id: string, stage: Lifecycle, now = Date.now()): void {
  db.prepare("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?").run(
    stage,
    stage === "deleted" ? now : null,
    id,
  );
}

export function setRunUser(db: Db, id: string, userId: string): void {
  db.prepare("UPDATE runs SET user_id = ? WHERE id = ?").run(userId, id);
}

export function updateRunInfo(
  db: Db,
  id: string,
  change: { status?: RunStatus; endTime?: number | null; name?: string },
): void {
  db.prepare(
    `UPDATE runs SET status = COALESCE(?, status), end_time = COALESCE(?, end_time),
       name = COALESCE(?, name) WHERE id = ?`,
  ).run(change.status ?? null, change.endTime ?? null, change.name ?? null, id);
}

/** Upserts tags in order: the last value given for a key wins. */
export function upsertTags(db: Db, runId: string, tags: KeyValue[]): void {
  const upsert = db.prepare(
    `INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)
     ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
  );
  for (const t of tags) {
    upsert.run(runId, t.key, t.value);
  }
}

export function deleteTag(db: Db, runId: string, key: string): boolean {
  return db.prepare("DELETE FROM tags WHERE run_id = ? AND key = ?").run(runId, key).changes > 0;
}

/** Tags or params of several runs, by run id, keys in order. */
export function keyValuesOf(
  db: Db,
  table: "tags" | "params",
  runIds: string[],
): Map<string, KeyValue[]> {
  const rows = db
    .prepare(
      `SELECT run_id, key, value FROM ${table}
       WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY key`,
    )
    .all(JSON.stringify(runIds)) as { run_id: string; key: string; value: string }[];
  const byRun = new Map<string, KeyValue[]>();
  for (const r of rows) {
    const list = byRun.get(r.run_id) ?? [];
    list.push({ key: r.key, value: r.value });
    byRun.set(r.run_id, list);
  }
  return byRun;
}

// ----- experiments -----

export const DEFAULT_EXPERIMENT_ID = "0";
export const DEFAULT_EXPERIMENT_NAME = "Default";

interface ExperimentRow {
  id: string;
  name: string;
  created_at: number;
  last_update_time: number | null;
  lifecycle_stage: Lifecycle;
  artifact_location: string | null;
}

function toRecord(db: Db, row: ExperimentRow): ExperimentRecord {
  const tags = db
    .prepare("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key")
    .all(row.id) as KeyValue[];
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastUpdateTime: row.last_update_time ?? row.created_at,
    lifecycleStage: row.lifecycle_stage,
    artifactLocation: row.artifact_location,
    tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
  };
}

export function experimentRecord(db: Db, id: string): ExperimentRecord | undefined {
  ensureDefaultExperiment(db, id);
  const row = db.prepare("SELECT * FROM experiments WHERE id = ?").get(id) as
    ExperimentRow | undefined;
  return row ? toRecord(db, row) : undefined;
}

export function experimentRecordByName(db: Db, name: string): ExperimentRecord | undefined {
  if (name === DEFAULT_EXPERIMENT_NAME) {
    ensureDefaultExperiment(db, DEFAULT_EXPERIMENT_ID);
  }
  const row = db.prepare("SELECT * FROM experiments WHERE name = ?").get(name) as
    ExperimentRow | undefined;
  return row ? toRecord(db, row) : undefined;
}

export function allExperimentRecords(db: Db): ExperimentRecord[] {
  const rows = db.prepare("SELECT * FROM experiments").all() as ExperimentRow[];
  return rows.map((r) => toRecord(db, r));
}

/**
 * MLflow clients log to experiment "0" ("Default") when none is chosen. It is created when first
 * asked for, so workspaces that never use MLflow do not show an empty experiment.
 */
export function ensureDefaultExperiment(db: Db, id: string): void {
  if (id !== DEFAULT_EXPERIMENT_ID) {
    return;
  }
  db.prepare(
    `INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)
     ON CONFLICT DO NOTHING`,
  ).run(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, Date.now());
}

/** A new experiment; LATHE_CONFLICT when the name is taken. Ids are the next decimal number. */
export function insertExperiment(
  db: Db,
  name: string,
  options: { artifactLocation?: string | null; tags?: KeyValue[] },
  now = Date.now(),
): string {
  return db.transaction(() => {
    if (db.prepare("SELECT 1 FROM experiments WHERE name = ?").get(name)) {
      throw new LatheError("LATHE_CONFLICT", `Experiment '${name}' already exists.`, { name });
    }
    const next = db
      .prepare("SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) + 1 AS n FROM experiments")
      .get() as { n: number };
    const id = String(next.n);
    db.prepare(
      `INSERT INTO experiments (id, name, created_at, last_update_time, artifact_location)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(id, name, now, now, options.artifactLocation ?? null);
    const tag = db.prepare(
      `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
       ON CONFLICT DO UPDATE SET value = excluded.value`,
    );
    for (const t of options.tags ?? []) {
      tag.run(id, t.key, t.value);
    }
    return id;
  })();
}
