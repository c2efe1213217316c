/**
 * Compare N runs: every param and metric key of any of them, a value per run (null where the run
 * lacks it), and whether the values differ. Metrics are summarised by their latest point, the
 * min and max over all their points (±Infinity included, NaN not), and how many points there
 * are, with the NaN, +Infinity and -Infinity ones counted apart (a chart cannot draw them).
 */
import type { MetricSummary, RunComparison, RunSummary } from "../../../schemas/api";
import { LatheError } from "../errors";
import type { Db } from "../store/db";
import { runSummaries } from "../store/runs";

/** The comparison of `runIds`, values in their order; LATHE_NOT_FOUND naming a missing run. */
export function compareRuns(db: Db, runIds: string[]): RunComparison {
  const runs = runSummaries(db, runIds);
  if (runs.length !== runIds.length) {
    const found = new Set(runs.map((r) => r.id));
    const missing = runIds.filter((id) => !found.has(id));
    throw new LatheError("LATHE_NOT_FOUND", `No run '${missing[0]}'.`, {
      runId: missing[0],
      missing,
    });
  }

  const stats = metricStats(db, runIds);
  const paramKeys = keysOf(runs.map((r) => r.params));
  const metricKeys = keysOf(runs.map((r) => r.metrics));
  return {
    runs,
    params: paramKeys.map((key) => {
      const values = runs.map((r) => r.params[key] ?? null);
      return { key, values, differs: new Set(values).size > 1 };
    }),
    metrics: metricKeys.map((key) => {
      const values = runs.map((r) => summaryOf(r, key, stats));
      const lasts = values.map((v) => (v === null ? "none" : `${v.last}:${v.text ?? ""}`));
      return { key, values, differs: new Set(lasts).size > 1 };
    }),
  };
}

function keysOf(maps: Record<string, unknown>[]): string[] {
  return [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();
}

/** Per run and key: min/max of the finite values, the point count and the non-finite counts. */
interface Stats {
  min: number | null;
  max: number | null;
  count: number;
  /** Points that are NaN, +Infinity and -Infinity (`value` is null and `text` spells them). */
  nan: number;
  posInf: number;
  negInf: number;
}

/**
 * Min/max over finite values (NaN and ±Infinity are stored as a null value with their `text`),
 * the point count and the non-finite counts, per run and key, in one grouped query.
 */
function metricStats(db: Db, runIds: string[]): Map<string, Stats> {
  const rows = db
    .prepare(
      `SELECT run_id, key, MIN(value) AS min, MAX(value) AS max, COUNT(*) AS count,
         COUNT(*) FILTER (WHERE text = 'NaN') AS nan,
         COUNT(*) FILTER (WHERE text = 'Infinity') AS posInf,
         COUNT(*) FILTER (WHERE text = '-Infinity') AS negInf
       FROM metrics
       WHERE run_id IN (SELECT value FROM json_each(?)) GROUP BY run_id, key`,
    )
    .all(JSON.stringify(runIds)) as ({ run_id: string; key: string } & Stats)[];
  return new Map(rows.map((r) => [`${r.run_id}\0${r.key}`, r]));
}

/** The lowest and highest value, an infinity counting as one (JSON spells it as text). */
function extremes(s: Stats): Pick<MetricSummary, "min" | "minText" | "max" | "maxText"> {
  const range: Pick<MetricSummary, "min" | "minText" | "max" | "maxText"> = {
    min: s.negInf > 0 ? null : s.min,
    max: s.posInf > 0 ? null : s.max,
  };
  // Without finite values, the only infinity there is is both ends.
  if (s.negInf > 0 || (s.min === null && s.posInf > 0)) {
    range.minText = s.negInf > 0 ? "-Infinity" : "Infinity";
  }
  if (s.posInf > 0 || (s.max === null && s.negInf > 0)) {
    range.maxText = s.posInf > 0 ? "Infinity" : "-Infinity";
  }
  return range;
}

function summaryOf(run: RunSummary, key: string, stats: Map<string, Stats>): MetricSummary | null {
  const latest = run.metrics[key];
  if (!latest) {
    return null;
  }
  const s = stats.get(`${run.id}\0${key}`);
  const text = latest.text === undefined ? {} : { text: latest.text as MetricSummary["text"] };
  return {
    last: latest.value,
    ...text,
    ...(s ? extremes(s) : { min: null, max: null }),
    step: latest.step,
    count: s?.count ?? 0,
    nan: s?.nan ?? 0,
    posInf: s?.posInf ?? 0,
    negInf: s?.negInf ?? 0,
  };
}
