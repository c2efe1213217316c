/**
 * Live metrics: while a stage runs, its declared metrics and plots files are polled. Tables
 * (CSV/TSV) and JSON Lines grow by appended lines: each new complete record becomes metric points
 * of the stage's run. JSON and YAML metrics files are rewritten whole (dvclive's metrics.json each
 * step): each time one changes it is read again and its changed values are logged. Either way
 * the event stream hears `runs/changed`, so a running run's charts grow. When the stage is done,
 * `recordMetrics` reads every file whole and skips the points already logged here.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Context } from "../context";
import {
  readMetricsFile,
  recordReader,
  type MetricPoint,
  type RecordReader,
  type Stepless,
} from "../pipeline/metrics";
import { logMetrics } from "../store/runs";
import { realPlace } from "../workspace";

/** How often a running stage's files are checked for changes. */
export const LIVE_METRICS_MS = 250;
/**
 * At most this much of an appended file is read per poll, so a huge table cannot stall the
 * daemon; a rewritten file larger than this is left to the final read.
 */
const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface LiveFile {
  /** Absolute path of the file. */
  abs: string;
  /** Workspace-relative path: the key the final read uses to skip what was logged live. */
  wsPath: string;
  /** Metrics files without a step log each record at its index; plots skip them. */
  stepless: Stepless;
}

export interface LiveMetrics {
  /**
   * Stops polling (after one last poll) and returns, by workspace path, the points the final
   * read must not log again.
   */
  stop(): Map<string, Set<string>>;
}

/** One followed file: what is new since the last poll, and what the final read may skip. */
interface Follower {
  wsPath: string;
  poll(): MetricPoint[];
  logged(): Set<string>;
}

/** The identity of a point, to log each record once across live polls and the final read. */
export function pointId(p: MetricPoint): string {
  return `${p.key}\u0000${p.step}\u0000${p.value ?? p.text}`;
}

/** Follows the tables, JSON Lines and JSON/YAML metrics files among `files`. */
export function followMetrics(
  ctx: Context,
  runId: string,
  files: LiveFile[],
  intervalMs = LIVE_METRICS_MS,
): LiveMetrics {
  const followed = files.flatMap((f) => follower(ctx, f) ?? []);
  const poll = () => {
    const points = followed.flatMap((f) => f.poll());
    if (points.length > 0) {
      logMetrics(ctx.db, runId, points);
      // In a CLI repro, cli/forward-events.ts passes this on to a running daemon's stream.
      ctx.events.emit({ type: "runs/changed", runId });
    }
  };
  const timer = followed.length > 0 ? setInterval(poll, intervalMs) : undefined;
  return {
    stop() {
      clearInterval(timer);
      if (followed.length > 0) {
        poll();
      }
      return new Map(followed.map((f) => [f.wsPath, f.logged()]));
    },
  };
}

/** Appended files record by record; JSON/YAML metrics as rewritten; JSON plots not at all. */
function follower(ctx: Context, file: LiveFile): Follower | undefined {
  if (recordReader(file.abs, file.stepless)) {
    return confined(ctx, file, appended(ctx, file));
  }
  return file.stepless === "index" ? confined(ctx, file, rewritten(file)) : undefined;
}

/**
 * Stops following a file that the stage made a symlink leaving the workspace: nothing is read
 * there. The final read (recordMetrics) refuses it too, and storing the outputs fails the stage.
 */
function confined(ctx: Context, file: LiveFile, inner: Follower): Follower {
  let left = false;
  return {
    ...inner,
    poll() {
      if (left) {
        return [];
      }
      const place = realPlace(ctx.ws.root, file.abs);
      if (!place.inside) {
        left = true;
        ctx.log.warn(
          { path: file.wsPath, link: place.link },
          "live metrics stopped: leaves the workspace",
        );
        return [];
      }
      return inner.poll();
    },
  };
}

interface Appended {
  offset: number;
  decoder: StringDecoder;
  reader: RecordReader;
  /** Set once the file could not be parsed: it is no longer followed, the final read says why. */
  broken: boolean;
}

/** A table or JSON Lines: the records completed since the last poll, each logged once. */
function appended(ctx: Context, file: LiveFile): Follower {
  const fresh = () => ({
    offset: 0,
    decoder: new StringDecoder("utf8"),
    reader: recordReader(file.abs, file.stepless)!,
  });
  const state: Appended = { ...fresh(), broken: false };
  const logged = new Set<string>();
  return {
    wsPath: file.wsPath,
    poll() {
      if (state.broken) {
        return [];
      }
      try {
        const points = readNew(file.abs, state, () => Object.assign(state, fresh()));
        return points.filter((p) => {
          const id = pointId(p);
          return logged.has(id) ? false : (logged.add(id), true);
        });
      } catch (err) {
        state.broken = true;
        ctx.log.warn({ path: file.wsPath, err: (err as Error).message }, "live metrics stopped");
        return [];
      }
    },
    logged: () => logged,
  };
}

/** The points of the records completed since the last poll; throws when they do not parse. */
function readNew(abs: string, state: Appended, restart: () => void): MetricPoint[] {
  let size: number;
  try {
    size = statSync(abs).size;
  } catch {
    return []; // Not written yet (or removed for a moment by a rewrite): try again next poll.
  }
  if (size < state.offset) {
    restart(); // Truncated or rewritten: read it again from the top.
  }
  if (size === state.offset) {
    return [];
  }
  const length = Math.min(size - state.offset, MAX_READ_BYTES);
  const bytes = Buffer.alloc(length);
  const fd = openSync(abs, "r");
  try {
    state.offset += readSync(fd, bytes, 0, length, state.offset);
  } finally {
    closeSync(fd);
  }
  return state.reader.push(state.decoder.write(bytes));
}

/**
 * A JSON or YAML metrics file, rewritten whole as training goes: read again whenever its size,
 * mtime or inode changes, logging each value that differs from the last one logged at its step
 * (the file's `step`, or 0). The file as it was when the stage started (a `persist` out) is not
 * logged live: only what the stage writes is.
 */
function rewritten(file: LiveFile): Follower {
  let seen = signature(file.abs)?.key;
  /** The id of the last point logged per key and step. */
  const last = new Map<string, string>();
  return {
    wsPath: file.wsPath,
    poll() {
      const now = signature(file.abs);
      if (now === undefined || now.key === seen) {
        return [];
      }
      seen = now.key;
      let points: MetricPoint[];
      try {
        points = now.size > MAX_READ_BYTES ? [] : readMetricsFile(file.abs);
      } catch {
        // Caught mid-rewrite, most likely: the next change reads it again, and an error that
        // lasts is reported by the final read.
        return [];
      }
      return points.filter((p) => {
        const slot = `${p.key}\u0000${p.step}`;
        const id = pointId(p);
        return last.get(slot) === id ? false : (last.set(slot, id), true);
      });
    },
    // Only the last value per step: a value that came back (0.5, 0.7, 0.5) is logged again.
    logged: () => new Set(last.values()),
  };
}

function signature(abs: string): { size: number; key: string } | undefined {
  try {
    const s = statSync(abs, { bigint: true });
    return { size: Number(s.size), key: `${s.ino}:${s.size}:${s.mtimeNs}` };
  } catch {
    return undefined;
  }
}
