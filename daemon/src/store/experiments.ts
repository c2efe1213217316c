/**
 * Experiments: named groups of runs. Ids are decimal strings ("1", "2", …), the shape MLflow
 * clients expect from the tracking API.
 */
import type { Experiment } from "../../../schemas/api";
import type { Db } from "./db";

interface ExperimentRow {
  id: string;
  name: string;
  created_at: number;
  run_count: number;
}

const SELECT = `
  SELECT e.id, e.name, e.created_at,
    (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id) AS run_count
  FROM experiments e`;

function toExperiment(row: ExperimentRow): Experiment {
  return { id: row.id, name: row.name, createdAt: row.created_at, runCount: row.run_count };
}

export function listExperiments(db: Db): Experiment[] {
  const rows = db.prepare(`${SELECT} ORDER BY e.created_at, e.id`).all() as ExperimentRow[];
  return rows.map(toExperiment);
}

export function experimentByName(db: Db, name: string): Experiment | undefined {
  const row = db.prepare(`${SELECT} WHERE e.name = ?`).get(name) as ExperimentRow | undefined;
  return row ? toExperiment(row) : undefined;
}

export function experimentById(db: Db, id: string): Experiment | undefined {
  const row = db.prepare(`${SELECT} WHERE e.id = ?`).get(id) as ExperimentRow | undefined;
  return row ? toExperiment(row) : undefined;
}

/** The experiment with this name, created when missing. */
export function ensureExperiment(db: Db, name: string, now = Date.now()): Experiment {
  return db.transaction(() => {
    const existing = experimentByName(db, name);
    if (existing) {
      return existing;
    }
    const next = db
      .prepare("SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) + 1 AS n FROM experiments")
      .get() as { n: number };
    const id = String(next.n);
    db.prepare("INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)").run(
      id,
      name,
      now,
    );
    return { id, name, createdAt: now, runCount: 0 };
  })();
}
