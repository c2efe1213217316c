/**
 * Runs and what hangs off them: params (write-once), metrics (series by step), input and output
 * files, the log and the error. A repro writes them; the Runs view, the CLI and the registry
 * read them. Every write is one synchronous transaction.
 */
import { randomUUID } from "node:crypto";
import type {
  MetricValue,
  RunArtifact,
  RunDetail,
  RunStatus,
  RunSummary,
} from "../../../schemas/api";
import { LatheError } from "../errors";
import type { Db } from "./db";

export interface NewRun {
  experimentId: string;
  name: string;
  parentId?: string | null;
  stage?: string | null;
  command?: string | null;
  cwd?: string | null;
  gitCommit?: string | null;
  gitDirty?: boolean | null;
  startTime?: number;
}

export interface RunEnd {
  status: Exclude<RunStatus, "RUNNING">;
  exitCode?: number | null;
  log?: string;
  error?: string | null;
  endTime?: number;
}

export { logMetrics, type MetricInput } from "./metrics";

export interface RunFilter {
  experimentId?: string;
  /** A run id for its children; null for top-level runs only; undefined for all. */
  parentId?: string | null;
  /**
   * Only the runs whose parent is not listed with them (none, deleted, or in another
   * experiment): the Runs view's top level.
   */
  topLevel?: boolean;
  limit?: number;
  /** How many runs of the order to skip first (a page's start); 0 by default. */
  offset?: number;
  /**
   * The children of the runs listed too (after `limit` and `offset`, which count the runs the
   * filter matches only), in the same newest-first order: a page of the Runs view in one list.
   */
  withChildren?: boolean;
  /** Deleted runs too (MLflow's lifecycle); lists hide them by default. */
  includeDeleted?: boolean;
}

interface RunRow {
  id: string;
  experiment_id: string;
  experiment_name: string;
  name: string;
  parent_id: string | null;
  stage: string | null;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  exit_code: number | null;
  command: string | null;
  git_commit: string | null;
  git_dirty: number | null;
  lifecycle_stage: "active" | "deleted";
  log?: string;
  error?: string | null;
}

/** 32 hex characters, MLflow's run id shape. */
export function newRunId(): string {
  return randomUUID().replaceAll("-", "");
}

export function createRun(db: Db, run: NewRun): string {
  const id = newRunId();
  db.prepare(
    `INSERT INTO runs (id, experiment_id, name, parent_id, stage, status, start_time, command,
       cwd, git_commit, git_dirty)
     VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?)`,
  ).run(
    id,
    run.experimentId,
    run.name,
    run.parentId ?? null,
    run.stage ?? null,
    run.startTime ?? Date.now(),
    run.command ?? null,
    run.cwd ?? null,
    run.gitCommit ?? null,
    run.gitDirty === undefined || run.gitDirty === null ? null : Number(run.gitDirty),
  );
  return id;
}

export function finishRun(db: Db, id: string, end: RunEnd): void {
  db.prepare(
    `UPDATE runs SET status = ?, end_time = ?, exit_code = ?, log = COALESCE(?, log), error = ?
     WHERE id = ?`,
  ).run(
    end.status,
    end.endTime ?? Date.now(),
    end.exitCode ?? null,
    end.log ?? null,
    end.error ?? null,
    id,
  );
}

/** Replaces the log of a run that is still RUNNING (a live view of a stage's output). */
export function updateRunLog(db: Db, id: string, log: string): void {
  db.prepare("UPDATE runs SET log = ? WHERE id = ? AND status = 'RUNNING'").run(log, id);
}

/** Records the process group of a stage run's command and when its leader started (or null). */
export function setRunProcess(db: Db, id: string, pgid: number, start: string | null): void {
  db.prepare("UPDATE runs SET pgid = ?, pgid_start = ? WHERE id = ?").run(pgid, start, id);
}

/** A stage run of an interrupted repro that is still RUNNING, with its recorded process group. */
export interface LeftoverStage {
  runId: string;
  stage: string | null;
  pgid: number;
  pgidStart: string | null;
}

const INTERRUPTED_REPRO_RUNS = `status = 'RUNNING' AND (
  (name = 'repro' AND stage IS NULL AND parent_id IS NULL)
  OR parent_id IN (SELECT id FROM runs WHERE name = 'repro' AND stage IS NULL))`;

/** The stage runs `failInterruptedRepros` would fail that recorded a process group. */
export function leftoverStages(db: Db): LeftoverStage[] {
  return db
    .prepare(
      `SELECT id AS runId, stage, pgid, pgid_start AS pgidStart FROM runs
       WHERE pgid IS NOT NULL AND ${INTERRUPTED_REPRO_RUNS}`,
    )
    .all() as LeftoverStage[];
}

/**
 * Marks repro runs (parents named "repro" and their stage runs) still RUNNING as FAILED. Called
 * by a repro that holds the workspace's repro lock, so no other repro can own them: they were
 * left by a process that died. The runs in `stopped` had a process group still running, which
 * the caller stopped; their error says so.
 */
export function failInterruptedRepros(db: Db, stopped: string[] = [], now = Date.now()): number {
  const error = "interrupted: the process running this repro exited before it finished";
  const stoppedError = `${error}; its stage's process group was still running and has been stopped`;
  return db.transaction(() => {
    const result = db
      .prepare(
        `UPDATE runs SET status = 'FAILED', end_time = ?, error = ? WHERE ${INTERRUPTED_REPRO_RUNS}`,
      )
      .run(now, error);
    const mark = db.prepare("UPDATE runs SET error = ? WHERE id = ?");
    stopped.forEach((id) => mark.run(stoppedError, id));
    return result.changes;
  })();
}

/** Params are write-once per run: the same value again is fine, a different one is a conflict. */
export function logParams(db: Db, runId: string, params: Record<string, string>): void {
  const insert = db.prepare(
    "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const read = db.prepare("SELECT value FROM params WHERE run_id = ? AND key = ?");
  db.transaction(() => {
    for (const [key, value] of Object.entries(params)) {
      insert.run(runId, key, value);
      const stored = (read.get(runId, key) as { value: string }).value;
      if (stored !== value) {
        throw new LatheError(
          "LATHE_CONFLICT",
          `Param '${key}' of run ${runId} is already '${stored}'; params are write-once.`,
          { runId, key, stored, value },
        );
      }
    }
  })();
}

/** Sets tags on a run (`lathe.restoredFrom`, …); a tag set again takes the new value. */
export function setRunTags(db: Db, runId: string, tags: Record<string, string>): void {
  const insert = db.prepare(
    `INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)
     ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
  );
  db.transaction(() => Object.entries(tags).forEach(([k, v]) => insert.run(runId, k, v)))();
}

export function runTags(db: Db, runId: string): Record<string, string> {
  const rows = db.prepare("SELECT key, value FROM tags WHERE run_id = ?").all(runId) as {
    key: string;
    value: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

export function addRunFiles(
  db: Db,
  runId: string,
  direction: "in" | "out",
  files: { path: string; oid: string }[],
): void {
  const insert = db.prepare(
    `INSERT INTO run_files (run_id, direction, path, oid) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id, direction, path) DO UPDATE SET oid = excluded.oid`,
  );
  db.transaction(() => files.forEach((f) => insert.run(runId, direction, f.path, f.oid)))();
}

function selectRuns(extra = ""): string {
  return `
  SELECT r.id, r.experiment_id, e.name AS experiment_name, r.name, r.parent_id, r.stage, r.status,
    r.start_time, r.end_time, r.exit_code, r.command, r.git_commit, r.git_dirty,
    r.lifecycle_stage${extra}
  FROM runs r JOIN experiments e ON e.id = r.experiment_id`;
}

/** The WHERE clause (or "") and its arguments for a RunFilter, on `runs r`. */
export function runFilterWhere(filter: RunFilter): { where: string; args: unknown[] } {
  const where: string[] = filter.includeDeleted ? [] : ["r.lifecycle_stage = 'active'"];
  const args: unknown[] = [];
  if (filter.experimentId !== undefined) {
    where.push("r.experiment_id = ?");
    args.push(filter.experimentId);
  }
  if (filter.parentId === null) {
    where.push("r.parent_id IS NULL");
  } else if (filter.parentId !== undefined) {
    where.push("r.parent_id = ?");
    args.push(filter.parentId);
  }
  if (filter.topLevel) {
    const listed = filter.includeDeleted ? "" : " AND p.lifecycle_stage = 'active'";
    where.push(`(r.parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM runs p
      WHERE p.id = r.parent_id AND p.experiment_id = r.experiment_id${listed}))`);
  }
  return { where: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
}

const NEWEST_FIRST = "ORDER BY r.start_time DESC, r.rowid DESC";

/**
 * The end of a run list's SELECT on `runs r` (WHERE, order, limit, offset) and its arguments.
 * With `withChildren`, the filter picks a page of runs and their children are added to it.
 */
export function runListTail(filter: RunFilter): { sql: string; args: unknown[] } {
  const { where, args } = runFilterWhere(filter);
  const page = [...args, filter.limit ?? -1, filter.offset ?? 0];
  if (!filter.withChildren) {
    return { sql: `${where} ${NEWEST_FIRST} LIMIT ? OFFSET ?`, args: page };
  }
  const active = filter.includeDeleted ? "" : "AND r.lifecycle_stage = 'active'";
  return {
    sql: `WHERE r.id IN (SELECT id FROM page)
        OR (r.parent_id IN (SELECT id FROM page) ${active}) ${NEWEST_FIRST}`,
    args: page,
  };
}

/** The page of a `withChildren` list, to put before its SELECT (`WITH page AS (…)`). */
export function runListWith(filter: RunFilter): string {
  const { where } = runFilterWhere(filter);
  return filter.withChildren
    ? `WITH page (id) AS (SELECT r.id FROM runs r ${where} ${NEWEST_FIRST} LIMIT ? OFFSET ?)`
    : "";
}

/** Runs, newest first, each with its params and the latest value of each metric. */
export function listRuns(db: Db, filter: RunFilter = {}): RunSummary[] {
  const tail = runListTail(filter);
  const sql = `${runListWith(filter)} ${selectRuns()} ${tail.sql}`;
  const rows = db.prepare(sql).all(...tail.args) as RunRow[];
  return withParamsAndMetrics(db, rows);
}

/** Summaries of the given runs in the order given; ids without a run are left out. */
export function runSummaries(db: Db, ids: string[]): RunSummary[] {
  const sql = `${selectRuns()} WHERE r.id IN (SELECT value FROM json_each(?))`;
  const rows = db.prepare(sql).all(JSON.stringify(ids)) as RunRow[];
  const byId = new Map(withParamsAndMetrics(db, rows).map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is RunSummary => r !== undefined);
}

/** One run with its files, log and error; LATHE_NOT_FOUND when there is none. */
export function getRun(db: Db, id: string): RunDetail {
  const row = db.prepare(`${selectRuns(", r.log, r.error")} WHERE r.id = ?`).get(id) as
    RunRow | undefined;
  if (!row) {
    throw new LatheError("LATHE_NOT_FOUND", `No run '${id}'.`, { runId: id });
  }
  const [summary] = withParamsAndMetrics(db, [row]);
  const files = db
    .prepare("SELECT direction, path, oid FROM run_files WHERE run_id = ? ORDER BY path")
    .all(id) as { direction: "in" | "out"; path: string; oid: string }[];
  const pick = (d: string) =>
    files.filter((f) => f.direction === d).map(({ path, oid }) => ({ path, oid }));
  const artifacts = db
    .prepare("SELECT path, oid, size FROM artifacts WHERE run_id = ? ORDER BY path")
    .all(id) as RunArtifact[];
  return {
    ...summary!,
    inputs: pick("in"),
    outputs: pick("out"),
    artifacts,
    log: row.log ?? "",
    error: row.error ?? null,
  };
}

/** The full id of a run from its id or a unique prefix of at least 4 characters. */
export function resolveRunId(db: Db, idOrPrefix: string): string {
  if (!/^[0-9a-f]{4,32}$/.test(idOrPrefix)) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `No run '${idOrPrefix}': a run id is 32 hex characters, or a unique prefix of 4 or more.`,
      {
        runId: idOrPrefix,
      },
    );
  }
  const rows = db
    .prepare("SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT 2")
    .all(idOrPrefix, `${idOrPrefix}g`) as { id: string }[];
  if (rows.length !== 1) {
    const why = rows.length === 0 ? "No run" : "More than one run";
    throw new LatheError("LATHE_NOT_FOUND", `${why} matches '${idOrPrefix}'.`, {
      runId: idOrPrefix,
    });
  }
  return rows[0]!.id;
}

/** Every value of one metric of a run, by step. */
export function metricHistory(db: Db, runId: string, key: string): MetricValue[] {
  const rows = db
    .prepare(
      `SELECT key, value, text, step, timestamp FROM metrics WHERE run_id = ? AND key = ?
       ORDER BY step, timestamp, rowid`,
    )
    .all(runId, key) as MetricRow[];
  return rows.map(toMetric);
}

interface MetricRow {
  run_id?: string;
  key: string;
  value: number | null;
  text: string | null;
  step: number;
  timestamp: number;
}

/** The latest value of each metric per run: highest step, then newest, as MLflow decides. */
export function latestMetrics(db: Db, runIds: string[]): Map<string, Record<string, MetricValue>> {
  const rows = db
    .prepare(
      `SELECT run_id, key, value, text, step, timestamp FROM latest_metrics
       WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY key`,
    )
    .all(JSON.stringify(runIds)) as MetricRow[];
  const byRun = new Map<string, Record<string, MetricValue>>();
  for (const row of rows) {
    const metrics = byRun.get(row.run_id!) ?? {};
    metrics[row.key] = toMetric(row);
    byRun.set(row.run_id!, metrics);
  }
  return byRun;
}

function toMetric(row: MetricRow): MetricValue {
  const metric: MetricValue = {
    key: row.key,
    value: row.value,
    step: row.step,
    timestamp: row.timestamp,
  };
  if (row.text !== null) {
    metric.text = row.text;
  }
  return metric;
}

function withParamsAndMetrics(db: Db, rows: RunRow[]): RunSummary[] {
  const ids = JSON.stringify(rows.map((r) => r.id));
  const params = keyValues(db, "params", ids);
  const tags = keyValues(db, "tags", ids);
  const metrics = latestMetrics(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) =>
    toSummary(row, {
      params: params.get(row.id) ?? {},
      metrics: metrics.get(row.id) ?? {},
      tags: tags.get(row.id) ?? {},
    }),
  );
}

/** Params or tags of the runs in `ids` (a JSON array), by run id, keys in order. */
function keyValues(
  db: Db,
  table: "params" | "tags",
  ids: string,
): Map<string, Record<string, string>> {
  const rows = db
    .prepare(
      `SELECT run_id, key, value FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY key`,
    )
    .all(ids) as { run_id: string; key: string; value: string }[];
  const byRun = new Map<string, Record<string, string>>();
  for (const p of rows) {
    const map = byRun.get(p.run_id) ?? {};
    map[p.key] = p.value;
    byRun.set(p.run_id, map);
  }
  return byRun;
}

function toSummary(
  row: RunRow,
  { params, metrics, tags }: Pick<RunSummary, "params" | "metrics" | "tags">,
): RunSummary {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    name: row.name,
    parentId: row.parent_id,
    stage: row.stage,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    exitCode: row.exit_code,
    command: row.command,
    gitCommit: row.git_commit,
    gitDirty: row.git_dirty === null ? null : row.git_dirty === 1,
    params,
    metrics,
    tags,
    lifecycleStage: row.lifecycle_stage,
  };
}
