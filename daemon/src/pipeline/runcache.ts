/**
 * The run cache: for each set of stage inputs (runCacheKey), the last successful run with them
 * and the ids of the outputs it wrote. A stale stage whose inputs are found here, with every
 * output object still in the content store, is restored instead of run.
 */
import type { Db } from "../store/db";
import type { LockedPath } from "./lock";

export interface RunCacheEntry {
  stage: string;
  runId: string;
  outs: LockedPath[];
  /** False when an output was not copied to the store (`cache: false`): only the run is known. */
  restorable: boolean;
}

export function recordRunCache(db: Db, key: string, entry: RunCacheEntry): void {
  db.prepare(
    `INSERT OR REPLACE INTO run_cache (key, stage, run_id, outs, restorable, created_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    key,
    entry.stage,
    entry.runId,
    JSON.stringify(entry.outs),
    Number(entry.restorable),
    Date.now(),
  );
}

export function lookupRunCache(db: Db, key: string): RunCacheEntry | undefined {
  const row = db
    .prepare("SELECT stage, run_id, outs, restorable FROM run_cache WHERE key = ?")
    .get(key) as { stage: string; run_id: string; outs: string; restorable: number } | undefined;
  if (!row) {
    return undefined;
  }
  return {
    stage: row.stage,
    runId: row.run_id,
    outs: JSON.parse(row.outs) as LockedPath[],
    restorable: row.restorable === 1,
  };
}
