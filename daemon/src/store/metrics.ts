/** Metric points: appended per run, with the latest value per key kept beside them. */
import type { Db } from "./db";
import { queueRollups } from "./rollups";
import { statement } from "./statements";

export interface MetricInput {
  key: string;
  value: number | null;
  text?: string | null;
  step?: number;
  timestamp?: number;
}

/**
 * Appends metric points and keeps latest_metrics current; the points' rollups are queued and
 * folded later (store/rollups.ts), off the write path. Call inside a transaction to make it part
 * of a larger write; on its own it is one transaction.
 */
export function logMetrics(db: Db, runId: string, points: MetricInput[]): void {
  if (points.length === 0) {
    return;
  }
  const insert = statement(
    db,
    "INSERT INTO metrics (run_id, key, value, text, step, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const now = Date.now();
  db.transaction(() => {
    // The latest point per key, as the index of its point: no copy of each point is made.
    const latest = new Map<string, number>();
    let first: number | bigint = 0;
    let last: number | bigint = 0;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const step = p.step ?? 0;
      const timestamp = p.timestamp ?? now;
      last = insert.run(runId, p.key, p.value, p.text ?? null, step, timestamp).lastInsertRowid;
      if (i === 0) {
        first = last;
      }
      const seen = latest.get(p.key);
      if (seen === undefined) {
        latest.set(p.key, i);
      } else {
        const s = points[seen]!;
        if (isLater({ step, timestamp }, { step: s.step ?? 0, timestamp: s.timestamp ?? now })) {
          latest.set(p.key, i);
        }
      }
    }
    // One upsert per key, not per point: a batch of 1000 points usually has a handful of keys.
    const upsert = statement(db, UPSERT_LATEST);
    for (const i of latest.values()) {
      const p = points[i]!;
      upsert.run(runId, p.key, p.value, p.text ?? null, p.step ?? 0, p.timestamp ?? now);
    }
    queueRollups(db, runId, first, last);
  })();
}

const UPSERT_LATEST = `
  INSERT INTO latest_metrics (run_id, key, value, text, step, timestamp) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (run_id, key) DO UPDATE SET
    value = excluded.value, text = excluded.text, step = excluded.step, timestamp = excluded.timestamp
  WHERE excluded.step > latest_metrics.step
    OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`;

/** MLflow's "latest": the higher step wins, then the newer timestamp, then the later write. */
function isLater(a: { step: number; timestamp: number }, b: { step: number; timestamp: number }) {
  return a.step > b.step || (a.step === b.step && a.timestamp >= b.timestamp);
}
