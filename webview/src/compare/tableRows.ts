/**
 * The params/metrics table as it is shown, pure (no DOM): a param is one row; a metric is four,
 * its last value, min, max and the points logged (with how many are NaN or ±Infinity), each
 * marked when the runs differ in it, so "Only differences" keeps just the rows that do.
 */
import type { CompareRow, MetricCell } from "../../../schemas/webview";
import { formatCell, nonFiniteText } from "./format";

export interface TableRow {
  /** The first column: "param lr", "metric loss · min", with " ≠" when the runs differ. */
  label: string;
  /** One cell per run, in the order of the model's runs. */
  cells: string[];
  differs: boolean;
}

type Stat = "min" | "max" | "points";

const STATS: { stat: Stat; text: (c: MetricCell) => string; same: (c: MetricCell) => string }[] = [
  { stat: "min", text: (c) => formatCell(c.min), same: (c) => c.min },
  { stat: "max", text: (c) => formatCell(c.max), same: (c) => c.max },
  {
    stat: "points",
    text: (c) => {
      const notFinite = nonFiniteText(c);
      return notFinite ? `${c.count} (${notFinite})` : String(c.count);
    },
    same: (c) => `${c.count}:${c.nan}:${c.posInf}:${c.negInf}`,
  },
];

/** The rows to show: every row, or (`onlyDiffs`) those where the runs differ. */
export function tableRows(rows: CompareRow[], onlyDiffs: boolean): TableRow[] {
  const shown = rows.flatMap(expand);
  return onlyDiffs ? shown.filter((r) => r.differs) : shown;
}

function expand(row: CompareRow): TableRow[] {
  if (row.group === "params" || !row.summaries) {
    const kind = row.group === "params" ? "param" : "metric";
    return [labelled(`${kind} ${row.key}`, row.values.map(formatCell), row.differs)];
  }
  const { summaries } = row;
  const last = labelled(`metric ${row.key} · last`, row.values.map(formatCell), row.differs);
  return [
    last,
    ...STATS.map(({ stat, text, same }) => {
      const cells = summaries.map((c) => (c === null ? formatCell(null) : text(c)));
      const keys = new Set(summaries.map((c) => (c === null ? null : same(c))));
      return labelled(`metric ${row.key} · ${stat}`, cells, keys.size > 1);
    }),
  ];
}

function labelled(label: string, cells: string[], differs: boolean): TableRow {
  return { label: `${label}${differs ? " ≠" : ""}`, cells, differs };
}
