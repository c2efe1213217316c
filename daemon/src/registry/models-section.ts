/**
 * The rules of the `models:` section of lathe.yaml (#5): which stage output becomes a new
 * version of which model after `lathe repro`, and the gate that decides whether an alias moves
 * to it. Read from the YAML AST so that every error names its place. Pure (no file system, no
 * pipeline engine): `lathe repro`/`status` throw at the first error (gates-parse.ts), the
 * language server collects them all with their nodes (checkModelsSection).
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from "yaml";
import { ALIAS_PATTERN } from "../../../schemas/registry";
import { LatheError } from "../errors";
import { MODEL_NAME_PATTERN } from "./models";

export type GateOp = ">=" | ">" | "<=" | "<" | "==" | "!=";

export interface GateCondition {
  text: string;
  metric: string;
  op: GateOp;
  /** A number, or the same (or named) metric of the version an alias points at, plus offset. */
  rhs:
    | { kind: "number"; value: number }
    | { kind: "alias"; alias: string; metric: string; offset: number };
  /** lathe.yaml:12:9 */
  where: string;
}

export interface ModelEntry {
  model: string;
  /** The stage whose run output is registered. */
  from: string;
  /** Workspace-relative output path; undefined for the stage's only .onnx output. */
  path?: string;
  /** Stages whose metrics (an evaluation of the output) join the version's metrics. */
  metrics: string[];
  description?: string;
  alias?: string;
  gate: GateCondition[];
  where: string;
}

/** The stages a `models:` entry may name, and what each writes. */
export interface SectionStages {
  /** Every stage name, as the messages list them. */
  names: string[];
  has(name: string): boolean;
  /** Workspace-relative outputs; undefined when not known (then they are not checked). */
  outputs(name: string): string[] | undefined;
}

/** One problem of the section, on the YAML node at fault (its range is in the parsed text). */
export interface SectionProblem {
  node: Node | null;
  message: string;
}

const ENTRY_FIELDS = ["from", "path", "metrics", "description", "alias", "gate"];
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const METRIC = /^[A-Za-z_][\w.\-/]*$/;
const CONDITION = /^\s*(\S+?)\s*(>=|<=|==|!=|>|<)\s*([^<>=!\s].*?)\s*$/;
const ALIAS_RHS = /^@([A-Za-z][\w-]*)(?:\.(\S+?))?(?:\s*([+-])\s*(\S+))?$/;
const SHAPE =
  "write '<metric> <op> <number>' or '<metric> <op> @<alias> [+|- <number>]' with op one of >=, >, <=, <, ==, != (e.g. 'accuracy >= 0.8', 'accuracy >= @champion - 0.01')";

export function parseModelsSection(
  file: string,
  text: string,
  stages: SectionStages,
): ModelEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const section = modelsPair(doc.contents);
  return section ? new Walker(file, lines, stages).section(section) : [];
}

/**
 * Every problem of a `models:` section (the pair in a parsed document), each on its node, where
 * parseModelsSection would stop at the first. For the language server.
 */
export function checkModelsSection(section: Pair, stages: SectionStages): SectionProblem[] {
  const problems: SectionProblem[] = [];
  new Walker("", new LineCounter(), stages, problems).section(section);
  return problems;
}

/** The `models:` pair of a document's root mapping. */
export function modelsPair(root: unknown): Pair | undefined {
  if (!isMap(root)) {
    return undefined;
  }
  return root.items.find((p) => isScalar(p.key) && p.key.value === "models");
}

/** Thrown by fail() while problems are collected: the check at hand stops, the others go on. */
class Skip extends Error {}

class Walker {
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly stages: SectionStages,
    /** Set: problems are collected here and the walk goes on; unset: the first one throws. */
    private readonly problems?: SectionProblem[],
  ) {}

  section(pair: Pair): ModelEntry[] {
    const value = pair.value as Node | null;
    if (!isMap(value)) {
      return this.guard(
        () =>
          this.fail(
            value ?? (pair.key as Node),
            "models: must be a mapping of model names to entries",
          ),
        [],
      );
    }
    return value.items.flatMap((item) => this.guard(() => [this.entry(item)], []));
  }

  private entry(pair: Pair): ModelEntry {
    const model = this.key(pair, "models");
    const where = `models.${model}`;
    if (!MODEL_NAME_PATTERN.test(model)) {
      this.guard(() =>
        this.fail(
          pair.key as Node,
          `'${model}' is not a valid model name: use letters, digits, '.', '_' and '-'`,
        ),
      );
    }
    const body = pair.value as Node | null;
    if (!isMap(body)) {
      this.fail(
        body ?? (pair.key as Node),
        `${where}: must be a mapping with at least 'from: <stage>'`,
      );
    }
    const fields = new Map<string, Node | null>();
    for (const field of body.items) {
      this.guard(() => {
        const key = this.key(field, where);
        if (!ENTRY_FIELDS.includes(key)) {
          this.fail(
            field.key as Node,
            `${where}: unknown field '${key}'; valid: ${ENTRY_FIELDS.join(", ")}`,
          );
        }
        fields.set(key, field.value as Node | null);
      });
    }
    if (!fields.has("from")) {
      this.fail(
        pair.key as Node,
        `${where}: 'from' is missing (the stage whose output to register)`,
      );
    }
    // In the order `lathe repro` reports them: from, metrics, gate, path and the output.
    const from = this.guard(() => this.stageName(fields.get("from")!, `${where}.from`), undefined);
    const entry: ModelEntry = {
      model,
      from: from ?? "",
      metrics: this.list(fields.get("metrics"), `${where}.metrics`).flatMap(([n, node]) =>
        this.guard(() => [this.stageName(node, `${where}.metrics`, n)], []),
      ),
      gate: this.list(fields.get("gate"), `${where}.gate`).flatMap(([t, node], i) =>
        this.guard(() => [this.condition(t, node, `${where}.gate[${i}]`)], []),
      ),
      where: this.at(pair.key as Node),
    };
    this.guard(() => {
      if (fields.has("path")) {
        entry.path = this.string(fields.get("path")!, `${where}.path`).replace(/^\.\//, "");
      }
      if (from !== undefined) {
        this.checkOutput(entry, fields.get("path") ?? fields.get("from")!, where);
      }
    });
    this.guard(() => {
      if (fields.has("description")) {
        entry.description = this.string(fields.get("description")!, `${where}.description`);
      }
    });
    this.guard(() => {
      if (fields.has("alias")) {
        entry.alias = this.alias(fields.get("alias")!, `${where}.alias`);
      }
    });
    return entry;
  }

  /**
   * Runs one check. Throwing, its error goes up; collecting, a failed check (already recorded)
   * gives `fallback` so that the checks after it still run.
   */
  private guard<T>(check: () => T, fallback?: T): T {
    if (!this.problems) {
      return check();
    }
    try {
      return check();
    } catch (err) {
      if (err instanceof Skip) {
        return fallback as T;
      }
      throw err;
    }
  }

  private condition(text: string, node: Node, where: string): GateCondition {
    const m = CONDITION.exec(text);
    const bad = (why: string): never => this.fail(node, `${where}: '${text}' ${why}; ${SHAPE}`);
    if (!m) {
      return bad("is not a condition");
    }
    const [, metric, op, rhsText] = m as unknown as [string, string, GateOp, string];
    if (!METRIC.test(metric)) {
      bad(`starts with '${metric}', which is not a metric name`);
    }
    const base = { text: text.trim(), metric, op, where: this.at(node) };
    if (NUMBER.test(rhsText)) {
      return { ...base, rhs: { kind: "number", value: Number(rhsText) } };
    }
    const a = ALIAS_RHS.exec(rhsText);
    if (!a) {
      return bad(`compares with '${rhsText}', which is neither a number nor @<alias>`);
    }
    const [, alias, other, sign, amount] = a as unknown as [
      string,
      string,
      string?,
      string?,
      string?,
    ];
    if (amount !== undefined && !NUMBER.test(amount)) {
      bad(`adds '${amount}', which is not a number`);
    }
    if (other !== undefined && !METRIC.test(other)) {
      bad(`names '${other}', which is not a metric name`);
    }
    const offset = amount === undefined ? 0 : (sign === "-" ? -1 : 1) * Number(amount);
    return { ...base, rhs: { kind: "alias", alias, metric: other ?? metric, offset } };
  }

  private stageName(node: Node | null, where: string, name?: string): string {
    const stage = name ?? this.string(node, where);
    if (!this.stages.has(stage)) {
      this.fail(
        node,
        `${where}: no stage named '${stage}'; stages: ${this.stages.names.join(", ")}`,
      );
    }
    return stage;
  }

  /** The output must be one file the stage writes: named by `path`, or its only .onnx out. */
  private checkOutput(entry: ModelEntry, node: Node | null, where: string): void {
    const outs = this.stages.outputs(entry.from);
    if (outs === undefined) {
      return; // Templated outputs (the language server cannot resolve them): not checked.
    }
    const listed = outs.join(", ") || "none";
    if (entry.path !== undefined && !outs.includes(entry.path)) {
      this.fail(
        node,
        `${where}.path: stage '${entry.from}' has no output '${entry.path}'; its outputs: ${listed}`,
      );
    }
    const onnx = outs.filter((o) => o.toLowerCase().endsWith(".onnx"));
    if (entry.path === undefined && onnx.length !== 1) {
      const why =
        onnx.length === 0
          ? "has no .onnx output"
          : `has several .onnx outputs (${onnx.join(", ")})`;
      this.fail(
        node,
        `${where}: stage '${entry.from}' ${why}; name the file with 'path:' (its outputs: ${listed})`,
      );
    }
  }
  private alias(node: Node | null, where: string): string {
    const alias = this.string(node, where);
    const reserved = alias === "latest" || /^v\d+$/.test(alias);
    if (!new RegExp(ALIAS_PATTERN).test(alias) || reserved) {
      this.fail(
        node,
        `${where}: '${alias}' is not a valid alias: use a letter, then letters, digits, '_' or '-' ('latest' and v<number> are reserved)`,
      );
    }
    return alias;
  }

  /** A list of strings (a single string is a list of one), each with its node. */
  private list(node: Node | null | undefined, where: string): [string, Node][] {
    if (node === undefined || node === null) {
      return [];
    }
    const items = isSeq(node) ? (node.items as Node[]) : [node];
    return items.map((item) => [this.string(item, where), item]);
  }

  private string(node: Node | null, where: string): string {
    if (!isScalar(node) || (typeof node.value !== "string" && typeof node.value !== "number")) {
      this.fail(node, `${where}: must be a string`);
    }
    return String(node.value);
  }

  private key(pair: Pair, where: string): string {
    const key = pair.key as Node | null;
    if (!isScalar(key) || typeof key.value !== "string") {
      this.fail(key, `${where}: keys must be strings`);
    }
    return key.value;
  }

  private at(node: Node | null): string {
    const pos = this.lines.linePos(node?.range?.[0] ?? 0);
    return `${this.file}:${pos.line}:${pos.col}`;
  }

  private fail(node: Node | null, message: string): never {
    if (this.problems) {
      this.problems.push({ node, message });
      throw new Skip();
    }
    const pos = this.lines.linePos(node?.range?.[0] ?? 0);
    throw new LatheError("LATHE_BAD_FILE", `${this.at(node)}: ${message}`, {
      file: this.file,
      line: pos.line,
      col: pos.col,
    });
  }
}
