/**
 * Folds queued metric writes into their rollups (store/rollups.ts) in the background: a while
 * after writes stop, or at the latest `maxDelayMs` after the first one of a burst, in chunks that
 * let requests in between. A history read folds its own run's queue first, so this only keeps the
 * queue short; a daemon stopped with a queue folds it after its next start.
 */
import type { Context } from "../context";
import { foldQueued } from "../store/rollups";

export interface RollupFolderOptions {
  /** Quiet time after the last write before folding starts. */
  delayMs?: number;
  /** The longest a write waits for its fold while writes keep coming. */
  maxDelayMs?: number;
  /** Queued writes folded per turn of the event loop. */
  chunk?: number;
}

/** Starts folding; returns the function that stops it. */
export function startRollupFolder(
  ctx: Context,
  { delayMs = 100, maxDelayMs = 2000, chunk = 16 }: RollupFolderOptions = {},
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let firstAt: number | undefined;
  let stopped = false;

  const fold = () => {
    timer = undefined;
    firstAt = undefined;
    if (stopped) {
      return;
    }
    try {
      if (foldQueued(ctx.db, { limit: chunk }) === chunk) {
        setImmediate(fold);
      }
    } catch (err) {
      // A read still folds its run's queue: a failure here costs speed, not correctness.
      ctx.log.warn({ err }, "folding metric rollups failed; history reads will fold them");
    }
  };
  const schedule = () => {
    if (stopped) {
      return;
    }
    const now = Date.now();
    firstAt ??= now;
    clearTimeout(timer);
    timer = setTimeout(fold, Math.max(0, Math.min(delayMs, firstAt + maxDelayMs - now)));
    timer.unref();
  };

  const off = ctx.events.on((event) => {
    if (event.type === "runs/changed") {
      schedule();
    }
  });
  schedule(); // what an earlier daemon left queued
  return () => {
    stopped = true;
    clearTimeout(timer);
    off();
  };
}
