/**
 * Metrics a stage wrote: metrics files (JSON or YAML, nested mappings flattened with dots,
 * numbers only) and plots CSVs with a `step` column (each numeric column becomes a series).
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export interface MetricPoint {
  key: string;
  /** null for NaN and ±Infinity, which `text` then spells. */
  value: number | null;
  text: string | null;
  step: number;
}

const SPECIAL: Record<string, string> = {
  nan: "NaN",
  ".nan": "NaN",
  infinity: "Infinity",
  inf: "Infinity",
  ".inf": "Infinity",
  "-infinity": "-Infinity",
  "-inf": "-Infinity",
  "-.inf": "-Infinity",
};

/** Reads a metrics file; throws with a short reason when it is neither JSON nor YAML. */
export function readMetricsFile(abs: string): MetricPoint[] {
  // YAML 1.2 reads JSON too; Python's bare NaN/Infinity come through as strings, handled below.
  const data: unknown = parse(readFileSync(abs, "utf8"));
  const points: MetricPoint[] = [];
  flatten(data, "", points);
  return points;
}

function flatten(node: unknown, prefix: string, out: MetricPoint[]): void {
  if (node !== null && typeof node === "object" && !Array.isArray(node)) {
    for (const [k, v] of Object.entries(node)) {
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
    }
    return;
  }
  const point = toPoint(prefix, node, 0);
  if (point && prefix) {
    out.push(point);
  }
}

function toPoint(key: string, value: unknown, step: number): MetricPoint | null {
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? { key, value, text: null, step }
      : { key, value: null, text: String(value), step };
  }
  if (typeof value === "string" && SPECIAL[value.trim().toLowerCase()]) {
    return { key, value: null, text: SPECIAL[value.trim().toLowerCase()]!, step };
  }
  return null;
}

/**
 * A CSV with a header row holding `step`: every other column whose cells are numbers becomes a
 * series keyed by the column name. Returns [] for other plots (JSON, no step column).
 */
export function readPlotSeries(abs: string): MetricPoint[] {
  if (!abs.toLowerCase().endsWith(".csv")) {
    return [];
  }
  const lines = readFileSync(abs, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
  const header = splitRow(lines[0] ?? "");
  const stepCol = header.indexOf("step");
  if (stepCol < 0) {
    return [];
  }
  const points: MetricPoint[] = [];
  for (const line of lines.slice(1)) {
    const cells = splitRow(line);
    const step = Number(cells[stepCol]);
    if (!Number.isInteger(step)) {
      continue;
    }
    header.forEach((key, i) => {
      const cell = cells[i] ?? "";
      const point = i === stepCol || cell === "" ? null : toPoint(key, numberOrText(cell), step);
      if (point) {
        points.push(point);
      }
    });
  }
  return points;
}

// FIXME(#2): quoted cells with commas inside are split wrongly; use a real CSV reader.
function splitRow(line: string): string[] {
  return line.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
}

function numberOrText(cell: string): number | string {
  const n = Number(cell);
  return Number.isNaN(n) ? cell : n;
}
