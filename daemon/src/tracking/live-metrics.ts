/**
 * Live metrics: while a stage runs, its declared metrics and plots tables (CSV/TSV) are polled
 * for growth; each new complete row becomes metric points of the stage's run, and the event
 * stream hears `runs/changed`, so a chart of a running run grows as training appends lines.
 * JSON and YAML metrics files are rewritten whole, not appended to, so they are read once, when
 * the stage is done (`recordMetrics`), which also reads every table whole and skips the points
 * already logged here.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Context } from "../context";
import { TableReader, tableDelimiter, type MetricPoint, type Stepless } from "../pipeline/metrics";
import { logMetrics } from "../store/runs";
import { realPlace } from "../workspace";

/** How often a running stage's tables are checked for new lines. */
export const LIVE_METRICS_MS = 250;
/** At most this much of a file is read per poll, so a huge table cannot stall the daemon. */
const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface LiveFile {
  /** Absolute path of the table. */
  abs: string;
  /** Workspace-relative path: the key the final read uses to skip what was logged live. */
  wsPath: string;
  /** Metrics tables without a step column log each row at its index; plots skip them. */
  stepless: Stepless;
}

export interface LiveMetrics {
  /** Stops polling (after one last poll) and returns what was logged, by workspace path. */
  stop(): Map<string, Set<string>>;
}

interface Followed extends LiveFile {
  offset: number;
  decoder: StringDecoder;
  reader: TableReader;
  logged: Set<string>;
  /** Set once the table could not be parsed: it is no longer followed, the final read says why. */
  broken: boolean;
}

/** The identity of a point, to log each row once across live polls and the final read. */
export function pointId(p: MetricPoint): string {
  return `${p.key}\u0000${p.step}\u0000${p.value ?? p.text}`;
}

/** Follows the tables among `files`; the rest are ignored. */
export function followMetrics(
  ctx: Context,
  runId: string,
  files: LiveFile[],
  intervalMs = LIVE_METRICS_MS,
): LiveMetrics {
  const followed: Followed[] = files
    .filter((f) => tableDelimiter(f.abs) !== null)
    .map((f) => ({ ...f, logged: new Set<string>(), broken: false, ...fresh(f) }));
  const poll = () => {
    const points = followed.flatMap((f) => (f.broken ? [] : readNew(ctx, f)));
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
      return new Map(followed.map((f) => [f.wsPath, f.logged]));
    },
  };
}

function fresh(file: LiveFile): Pick<Followed, "offset" | "decoder" | "reader"> {
  const delimiter = tableDelimiter(file.abs)!;
  return {
    offset: 0,
    decoder: new StringDecoder("utf8"),
    reader: new TableReader(delimiter, file.stepless),
  };
}

/** The points of the rows completed since the last poll, not logged before. */
function readNew(ctx: Context, file: Followed): MetricPoint[] {
  let size: number;
  try {
    size = statSync(file.abs).size;
  } catch {
    return []; // Not written yet (or removed for a moment by a rewrite): try again next poll.
  }
  if (size < file.offset) {
    Object.assign(file, fresh(file)); // Truncated or rewritten: read it again from the top.
  }
  if (size === file.offset) {
    return [];
  }
  // The stage may have made its table a symlink that leaves the workspace: never read there. The
  // final read (recordMetrics) refuses it too, and storing the outputs fails the stage.
  const place = realPlace(ctx.ws.root, file.abs);
  if (!place.inside) {
    file.broken = true;
    ctx.log.warn(
      { path: file.wsPath, link: place.link },
      "live metrics stopped: leaves the workspace",
    );
    return [];
  }
  const length = Math.min(size - file.offset, MAX_READ_BYTES);
  const bytes = Buffer.alloc(length);
  const fd = openSync(file.abs, "r");
  try {
    file.offset += readSync(fd, bytes, 0, length, file.offset);
  } finally {
    closeSync(fd);
  }
  try {
    const points = file.reader.push(file.decoder.write(bytes));
    return points.filter((p) => {
      const id = pointId(p);
      return file.logged.has(id) ? false : (file.logged.add(id), true);
    });
  } catch (err) {
    file.broken = true;
    ctx.log.warn({ path: file.wsPath, err: (err as Error).message }, "live metrics stopped");
    return [];
  }
}
