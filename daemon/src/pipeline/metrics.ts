/**
 * Metrics a stage wrote: metrics files (JSON or YAML, nested mappings flattened with dots,
 * numbers only; a CSV/TSV table; or JSON Lines) and plots (a CSV/TSV table or JSON Lines with a
 * `step` or `epoch`: each other numeric column or key becomes a series). Tables are read with
 * csv-parse, so quoted cells (commas, tabs or line breaks inside) come through whole. Tables and
 * JSON Lines are also read a piece at a time (`recordReader`), which is how a stage's appended
 * lines are picked up while it runs.
 */
import { readFileSync } from "node:fs";
import { parse as parseCsv } from "csv-parse/sync";
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

/** Columns that hold the step of a table row, in order of preference (`epoch` is a step too). */
export const STEP_COLUMNS = ["step", "epoch"];

/**
 * Reads a metrics file: a CSV or TSV table or JSON Lines (see `recordReader`; without a step a
 * record's step is its index), else JSON or YAML (values at step 0, or at the file's top-level
 * `step`). Throws with a short reason when it is none of these.
 */
export function readMetricsFile(abs: string): MetricPoint[] {
  const reader = recordReader(abs, "index");
  if (reader) {
    return readWhole(abs, reader);
  }
  // YAML 1.2 reads JSON too; Python's bare NaN/Infinity come through as strings, handled below.
  const data: unknown = parse(readFileSync(abs, "utf8"));
  const points: MetricPoint[] = [];
  flatten(data, "", points);
  // As in dvclive's metrics.json, a top-level integer `step` is the step of the other values.
  const step = points.find((p) => p.key === "step" && Number.isInteger(p.value));
  return step ? points.filter((p) => p !== step).map((p) => ({ ...p, step: step.value! })) : points;
}

/**
 * A plots table (CSV or TSV) with a header row holding `step` or `epoch`, or JSON Lines whose
 * objects hold one: every other column or key whose values are numbers becomes a series keyed by
 * its name. Returns [] for other plots (JSON, a table without a step column, such as a
 * confusion matrix).
 */
export function readPlotSeries(abs: string): MetricPoint[] {
  const reader = recordReader(abs, "skip");
  return reader ? readWhole(abs, reader) : [];
}

/** `,` for a .csv file, a tab for .tsv, null for anything else. */
export function tableDelimiter(path: string): "," | "\t" | null {
  const lower = path.toLowerCase();
  return lower.endsWith(".csv") ? "," : lower.endsWith(".tsv") ? "\t" : null;
}

/** What a table or JSON Lines file without a step gives: each record at its index, or nothing. */
export type Stepless = "index" | "skip";

/** Reads a file a record at a time, as it grows: a table's rows, or JSON Lines' lines. */
export interface RecordReader {
  /** Adds text; returns the points of the records it completed. */
  push(text: string): MetricPoint[];
  /** The text after the last line break, as a last record; throws when it is not one. */
  end(): MetricPoint[];
}

/** The reader for a .csv, .tsv or .jsonl file; null for a file read whole (JSON, YAML). */
export function recordReader(path: string, stepless: Stepless): RecordReader | null {
  const delimiter = tableDelimiter(path);
  if (delimiter) {
    return new TableReader(delimiter, stepless);
  }
  return path.toLowerCase().endsWith(".jsonl") ? new JsonLinesReader(stepless) : null;
}

function readWhole(abs: string, reader: RecordReader): MetricPoint[] {
  return [...reader.push(readFileSync(abs, "utf8")), ...reader.end()];
}

/**
 * Reads a table given in pieces as it grows: the first row is the header, every complete row
 * after it becomes points. A row is complete at its line break, unless the break is inside a
 * quoted cell; an unfinished row waits for the next piece (or `end()`).
 */
export class TableReader implements RecordReader {
  private header: string[] | null = null;
  private stepCol = -1;
  private pending = "";
  private rows = 0;

  constructor(
    private readonly delimiter: "," | "\t",
    private readonly stepless: Stepless,
  ) {}

  /** Adds text; returns the points of the rows it completed. */
  push(text: string): MetricPoint[] {
    this.pending += text;
    const end = this.pending.lastIndexOf("\n");
    if (end < 0) {
      return [];
    }
    const records = this.parse(this.pending.slice(0, end + 1), true);
    if (records === null) {
      return []; // A quoted cell holds a line break and is not closed yet.
    }
    this.pending = this.pending.slice(end + 1);
    return records.flatMap((r) => this.row(r));
  }

  /** The text after the last line break, as a last row; throws on a quote never closed. */
  end(): MetricPoint[] {
    const rest = this.pending;
    this.pending = "";
    return rest.trim() === "" ? [] : this.parse(rest, false)!.flatMap((r) => this.row(r));
  }

  private parse(text: string, mayWait: boolean): string[][] | null {
    try {
      const records: string[][] = parseCsv(text, {
        delimiter: this.delimiter,
        bom: this.header === null,
        trim: true,
        skip_empty_lines: true,
        relax_column_count: true,
        relax_quotes: true,
      });
      return records;
    } catch (err) {
      if (mayWait && (err as { code?: string }).code === "CSV_QUOTE_NOT_CLOSED") {
        return null;
      }
      throw err;
    }
  }

  private row(cells: string[]): MetricPoint[] {
    if (this.header === null) {
      this.header = cells;
      this.stepCol = STEP_COLUMNS.map((c) => cells.indexOf(c)).find((i) => i >= 0) ?? -1;
      return [];
    }
    const index = this.rows++;
    const step = this.stepCol >= 0 ? Number(cells[this.stepCol]) : index;
    if ((this.stepCol < 0 && this.stepless === "skip") || !Number.isInteger(step)) {
      return [];
    }
    const points: MetricPoint[] = [];
    this.header.forEach((key, i) => {
      const cell = cells[i] ?? "";
      const point =
        i === this.stepCol || cell === "" ? null : toPoint(key, numberOrText(cell), step);
      if (point && key !== "") {
        points.push(point);
      }
    });
    return points;
  }
}

/**
 * JSON Lines given in pieces: one object per line, flattened as a JSON metrics file is, at its
 * `step` (or `epoch`) as a table row is. A line is complete at its line break; blank lines are
 * skipped. Python's bare `NaN` and `Infinity` (json.dumps writes them) are read too.
 */
export class JsonLinesReader implements RecordReader {
  private pending = "";
  private lines = 0;
  private records = 0;

  constructor(private readonly stepless: Stepless) {}

  push(text: string): MetricPoint[] {
    this.pending += text;
    const end = this.pending.lastIndexOf("\n");
    if (end < 0) {
      return [];
    }
    const complete = this.pending.slice(0, end).split("\n");
    this.pending = this.pending.slice(end + 1);
    return complete.flatMap((line) => this.line(line));
  }

  end(): MetricPoint[] {
    const rest = this.pending;
    this.pending = "";
    return rest.trim() === "" ? [] : this.line(rest);
  }

  private line(raw: string): MetricPoint[] {
    const number = ++this.lines;
    const text = (number === 1 ? raw.replace(/^\ufeff/, "") : raw).trim();
    if (text === "") {
      return [];
    }
    const data = parseJsonLine(text, number);
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new Error(`line ${number}: not a JSON object`);
    }
    const points: MetricPoint[] = [];
    flatten(data, "", points);
    const index = this.records++;
    const stepKey = STEP_COLUMNS.find((c) => Object.hasOwn(data, c));
    const step = stepKey === undefined ? index : (data as Record<string, unknown>)[stepKey];
    if ((stepKey === undefined && this.stepless === "skip") || !Number.isInteger(step)) {
      return [];
    }
    return points.filter((p) => p.key !== stepKey).map((p) => ({ ...p, step: step as number }));
  }
}

/** JSON, or failing that YAML's flow syntax, which reads Python's bare NaN and Infinity. */
function parseJsonLine(text: string, number: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    try {
      return parse(text);
    } catch {
      throw new Error(`line ${number}: not JSON: ${(err as Error).message}`);
    }
  }
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

function numberOrText(cell: string): number | string {
  const n = Number(cell);
  return Number.isNaN(n) ? cell : n;
}
