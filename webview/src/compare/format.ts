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
