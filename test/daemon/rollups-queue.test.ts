/**
 * Metric rollups are folded after the write (#3): a write only queues its rowid range, the
 * daemon folds the queue in the background, a read folds its run's queue first. Checked on
 * SQLite on disk: folding in turns equals folding at once and equals rolling up as points come;
 * the daemon drains what HTTP writes queue and what an earlier process left; a run removed with
 * its points takes its queue with it, and the rowids it frees are folded for the run that reuses
 * them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { closeContext, openContext } from "../../daemon/src/context";
import { openDb, type Db } from "../../daemon/src/store/db";
import { ensureExperiment } from "../../daemon/src/store/experiments";
import { foldQueued, updateRollups } from "../../daemon/src/store/rollups";
import { createRun, logMetrics, type MetricInput } from "../../daemon/src/store/runs";
import { daemonIn, removeDir, tempDir } from "../helpers";

const KEYS = ["loss", "accuracy", "lr"];

/** Batch `b` of a run: 300 points over 3 keys, some NaN and Infinity, steps out of order. */
function batch(b: number, salt = 0): MetricInput[] {
  return Array.from({ length: 300 }, (_, i) => {
    const step = ((b * 97 + i) % 1000) * 3 + Math.floor(i / 100);
    const special = (i + salt) % 113 === 0;
    return {
      key: KEYS[i % KEYS.length]!,
      value: special ? null : Math.sin(step + salt) * 100,
      text: special ? (i % 2 ? "NaN" : "-Infinity") : null,
      step,
      timestamp: 1_700_000_000_000 + b * 1000 + i,
    };
  });
}

/** Every rollup row, by run name (run ids differ between databases). */
function rollupRows(db: Db): unknown[] {
  return db
    .prepare(
      `SELECT r.name, m.key, m.width, m.bucket, m.n, hex(m.points) AS p
         FROM metric_rollups m JOIN runs r ON r.id = m.run_id ORDER BY 1, 2, 3, 4`,
    )
    .all();
}

const queued = (db: Db) =>
  db.prepare("SELECT COUNT(*) FROM metric_rollups_queue").pluck().get() as number;

async function withDb(fn: (db: Db, experimentId: string) => void | Promise<void>): Promise<void> {
  const dir = await tempDir("lathe-rollups-queue-");
  const db = openDb(join(dir, "lathe.db"));
  try {
    await fn(db, ensureExperiment(db, "q").id);
  } finally {
    db.close();
    await removeDir(dir);
  }
}

test("folding the queue in turns, or at once, gives the rollups of folding each write as it came", async () => {
  const results: unknown[][] = [];
  for (const mode of ["turns", "once", "as-written"] as const) {
    await withDb((db, experimentId) => {
      const runs = ["a", "b"].map((name) => createRun(db, { experimentId, name }));
      for (let b = 0; b < 20; b++) {
        const run = runs[b % 2]!;
        if (mode === "as-written") {
          db.transaction(() => updateRollups(db, run, batch(b, b % 2) as never))();
        } else {
          logMetrics(db, run, batch(b, b % 2));
        }
      }
      if (mode === "turns") {
        assert.equal(queued(db), 20);
        let turns = 0;
        while (foldQueued(db, { limit: 3 }) > 0) {
          turns++;
        }
        assert.equal(turns, 7);
      } else if (mode === "once") {
        assert.equal(foldQueued(db), 20);
      }
      assert.equal(queued(db), 0);
      results.push(rollupRows(db));
    });
  }
  assert.ok(results[0]!.length > 50, `${results[0]!.length} rollup rows`);
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], results[2]);
});

test("a read of one run folds that run's queue only", async () => {
  await withDb((db, experimentId) => {
    const [a, b] = ["a", "b"].map((name) => createRun(db, { experimentId, name }));
    logMetrics(db, a!, batch(1));
    logMetrics(db, b!, batch(2));
    logMetrics(db, a!, batch(3));
    assert.equal(foldQueued(db, { runId: a }), 2);
    const left = db.prepare("SELECT run_id FROM metric_rollups_queue").pluck().all();
    assert.deepEqual(left, [b]);
  });
});

test("a run removed with its points drops its queue; the rowids it frees are folded for their new run", async () => {
  await withDb((db, experimentId) => {
    const [a, b] = ["a", "b"].map((name) => createRun(db, { experimentId, name }));
    logMetrics(db, a!, batch(1));
    foldQueued(db);
    logMetrics(db, b!, batch(2)); // the highest rowids, queued
    // What a purge of deleted runs does: the points and the queue go by cascade.
    db.prepare("DELETE FROM runs WHERE id = ?").run(b);
    assert.equal(queued(db), 0);
    logMetrics(db, a!, batch(3)); // rowids that were b's
    assert.equal(foldQueued(db), 1);
    const n = db
      .prepare("SELECT SUM(n) FROM metric_rollups WHERE run_id = ? AND width = 64")
      .pluck()
      .get(a);
    assert.equal(n, 600);
    const others = db.prepare("SELECT COUNT(*) FROM metric_rollups WHERE run_id = ?").pluck();
    assert.equal(others.get(b), 0);
  });
});

test("the daemon folds what HTTP writes queue, and what an earlier process left, without a read", async () => {
  const root = await tempDir("lathe-rollups-daemon-");
  try {
    // An earlier process (the CLI's in-process repro) left writes queued.
    const ctx = openContext(root, { quiet: true });
    const early = createRun(ctx.db, {
      experimentId: ensureExperiment(ctx.db, "q").id,
      name: "cli",
    });
    logMetrics(ctx.db, early, batch(1));
    assert.equal(queued(ctx.db), 1);
    closeContext(ctx);

    const daemon = await daemonIn(root);
    try {
      const db = daemon.ctx.db;
      const drained = async (what: string) => {
        const until = Date.now() + 20_000;
        while (queued(db) > 0) {
          assert.ok(Date.now() < until, `the queue drains (${what}): ${queued(db)} left`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await drained("left by the CLI");
      const run = createRun(db, { experimentId: ensureExperiment(db, "q").id, name: "http" });
      for (let b = 0; b < 5; b++) {
        const metrics = batch(b).map(({ text, value, ...p }) => ({ ...p, value: text ?? value }));
        await daemon.client.call("POST", `/api/v1/runs/${run}/batch`, { metrics });
      }
      await drained("written over HTTP");
      const n = db
        .prepare("SELECT SUM(n) FROM metric_rollups WHERE run_id = ? AND width = 64")
        .pluck();
      assert.equal(n.get(early), 300);
      assert.equal(n.get(run), 1500);
    } finally {
      await daemon.close();
    }
  } finally {
    await removeDir(root);
  }
});
