/** How values read in the Compare view; pure. */

/** A table cell: "—" for a missing value, numbers shortened to 6 significant digits. */
export function formatCell(value: string | null): string {
  if (value === null) {
    return "—";
  }
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || Number.isInteger(n)) {
    return value;
  }
  return String(Number(n.toPrecision(6)));
}

/** An axis tick: short numbers ("0.0123", "1.2e+6"). */
export function formatTick(value: number): string {
  if (value === 0) {
    return "0";
  }
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) {
    return value.toExponential(1);
  }
  return String(Number(value.toPrecision(3)));
}

/** How many points of a curve are NaN, +Infinity and -Infinity. */
export interface NonFiniteCounts {
  nan: number;
  posInf: number;
  negInf: number;
}

/** The mark a chart draws for each kind (chart.ts), named in its note. */
export const MARKS = { nan: "◆", posInf: "▲", negInf: "▼" } as const;

/**
 * The points a chart cannot draw, in words: "3 NaN, 1 +Infinity" ("◆ 3 NaN, ▲ 1 +Infinity" with
 * `marks`); "" when there are none.
 */
export function nonFiniteText(counts: NonFiniteCounts, marks = false): string {
  const part = (kind: keyof NonFiniteCounts, words: string) =>
    counts[kind] > 0 ? `${marks ? `${MARKS[kind]} ` : ""}${counts[kind]} ${words}` : "";
  return [part("nan", "NaN"), part("posInf", "+Infinity"), part("negInf", "-Infinity")]
    .filter(Boolean)
    .join(", ");
}

/**
 * A chart's note on what it leaves out: "◆ 3 NaN, ▲ 1 +Infinity points not drawn (a: 3 NaN;
 * b: 1 +Infinity)", naming one run alone as "(a)"; "" when every point is drawn. Runs with the
 * same name (a repro's stage runs) are told apart by their short id.
 */
export function notDrawnNote(
  runs: { name: string; id: string; counts: NonFiniteCounts }[],
): string {
  const total = { nan: 0, posInf: 0, negInf: 0 };
  for (const { counts } of runs) {
    total.nan += counts.nan;
    total.posInf += counts.posInf;
    total.negInf += counts.negInf;
  }
  const n = total.nan + total.posInf + total.negInf;
  if (n === 0) {
    return "";
  }
  const affected = runs.filter((r) => nonFiniteText(r.counts) !== "");
  const label = (r: (typeof runs)[number]) =>
    runs.filter((o) => o.name === r.name).length > 1 ? `${r.name} ${r.id.slice(0, 7)}` : r.name;
  const who =
    affected.length === 1
      ? label(affected[0]!)
      : affected.map((r) => `${label(r)}: ${nonFiniteText(r.counts)}`).join("; ");
  return `${nonFiniteText(total, true)} point${n === 1 ? "" : "s"} not drawn (${who})`;
}
