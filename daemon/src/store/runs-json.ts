/**
 * The run list as JSON text built by SQLite: the same `RunSummary[]` that `listRuns` returns,
 * serialized, but without a JavaScript object per run, param and metric. Listing 10,000 runs is
 * the Runs view's and the CLI's hot path; building the objects and stringifying them cost three
 * times the queries (docs/benchmarks.md, "Tracking"). The nested objects rely on SQLite (3.53,
 * bundled by better-sqlite3) keeping the JSON subtype of a scalar subquery's result;
 * test/daemon/runs-list-json.test.ts checks the output against `listRuns`.
 */
import type { Db } from "./db";
import { runListTail, runListWith, type RunFilter } from "./runs";
import { statement } from "./statements";

const KEY_VALUES = (table: "params" | "tags") =>
  `(SELECT json_group_object(key, value) FROM
     (SELECT key, value FROM ${table} t WHERE t.run_id = r.id ORDER BY key))`;

const METRIC = `CASE WHEN text IS NULL
    THEN json_object('key', key, 'value', value, 'step', step, 'timestamp', timestamp)
    ELSE json_object('key', key, 'value', value, 'step', step, 'timestamp', timestamp, 'text', text)
  END`;

const SUMMARY = `json_object(
  'id', r.id, 'experimentId', r.experiment_id, 'experimentName', e.name, 'name', r.name,
  'parentId', r.parent_id, 'stage', r.stage, 'status', r.status, 'startTime', r.start_time,
  'endTime', r.end_time, 'exitCode', r.exit_code, 'command', r.command,
  'gitCommit', r.git_commit,
  'gitDirty', CASE r.git_dirty WHEN 1 THEN json('true') WHEN 0 THEN json('false') END,
  'params', ${KEY_VALUES("params")},
  'metrics', (SELECT json_group_object(key, ${METRIC}) FROM
     (SELECT * FROM latest_metrics m WHERE m.run_id = r.id ORDER BY key)),
  'tags', ${KEY_VALUES("tags")},
  'lifecycleStage', r.lifecycle_stage)`;

/**
 * `JSON.stringify(listRuns(db, filter))`, from each run's summary as SQLite made it: kept in
 * `run_summaries` and made again only for runs changed since (triggers drop a changed run's),
 * so listing 10,000 unchanged runs reads 10,000 strings.
 */
export function listRunsJson(db: Db, filter: RunFilter = {}): string {
  const tail = runListTail(filter);
  const page = runListWith(filter);
  try {
    statement(db, FILL).run();
  } catch (err) {
    // A database another process holds locked, or opened read-only: make the summaries here.
    if (!(err instanceof Error && "code" in err && String(err.code).startsWith("SQLITE_"))) {
      throw err;
    }
    const sql = `${page} SELECT ${SUMMARY} FROM runs r JOIN experiments e ON e.id = r.experiment_id
      ${tail.sql}`;
    return `[${(
      db
        .prepare(sql)
        .pluck()
        .all(...tail.args) as string[]
    ).join(",")}]`;
  }
  const sql = `${page} SELECT s.json FROM runs r JOIN run_summaries s ON s.run_id = r.id
    ${tail.sql}`;
  const rows = statement(db, sql)
    .pluck()
    .all(...tail.args) as string[];
  return `[${rows.join(",")}]`;
}

/** Makes the summary of every run that has none (new, or changed since its last). */
const FILL = `INSERT INTO run_summaries (run_id, json)
  SELECT r.id, ${SUMMARY} FROM runs r JOIN experiments e ON e.id = r.experiment_id
  WHERE NOT EXISTS (SELECT 1 FROM run_summaries s WHERE s.run_id = r.id)`;
