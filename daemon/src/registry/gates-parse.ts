/**
 * The `models:` section of lathe.yaml (#5): which stage output becomes a new version of which
 * model after `lathe repro`, and the gate that decides whether an alias moves to it. Read from
 * the YAML AST so that every error names lathe.yaml:line:col. docs/pipeline.md has the semantics.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from "yaml";
import { ALIAS_PATTERN } from "../../../schemas/registry";
import { LatheError } from "../errors";
import { pipelineFile } from "../pipeline/parse";
import { cachedParse } from "../pipeline/parsecache";
import { stageOutputs, type Pipeline } from "../pipeline/spec";
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

const ENTRY_FIELDS = ["from", "path", "metrics", "description", "alias", "gate"];
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const METRIC = /^[A-Za-z_][\w.\-/]*$/;
const CONDITION = /^\s*(\S+?)\s*(>=|<=|==|!=|>|<)\s*([^<>=!\s].*?)\s*$/;
const ALIAS_RHS = /^@([A-Za-z][\w-]*)(?:\.(\S+?))?(?:\s*([+-])\s*(\S+))?$/;
const SHAPE =
  "write '<metric> <op> <number>' or '<metric> <op> @<alias> [+|- <number>]' with op one of >=, >, <=, <, ==, != (e.g. 'accuracy >= 0.8', 'accuracy >= @champion - 0.01')";

/** The `models:` entries of the workspace's pipeline file (none when it has no such section). */
export function loadModelsSection(root: string, pipeline: Pipeline): ModelEntry[] {
  const file = pipelineFile(root);
  if (!file || !existsSync(join(root, file))) {
    return [];
  }
  // Status and dag check this section on every call (the Pipelines view refreshes often): parse
  // it once per version of the file and of the stages it may name.
  const abs = join(root, file);
  const stages = pipeline.stages.map((s) => [s.name, stageOutputs(s).map((o) => o.wsPath)]);
  return cachedParse(root, `models:${file}:${JSON.stringify(stages)}`, [abs], () =>
    parseModelsSection(file, readFileSync(abs, "utf8"), pipeline),
  );
}

export function parseModelsSection(file: string, text: string, pipeline: Pipeline): ModelEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const root = doc.contents;
  if (!isMap(root)) {
    return [];
  }
  const section = root.items.find((p) => isScalar(p.key) && p.key.value === "models");
  if (!section) {
    return [];
  }
  const walker = new Walker(file, lines, pipeline);
  return walker.section(section);
}

class Walker {
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly pipeline: Pipeline,
  ) {}

  section(pair: Pair): ModelEntry[] {
    const value = pair.value as Node | null;
    if (!isMap(value)) {
      this.fail(value ?? (pair.key as Node), "models: must be a mapping of model names to entries");
    }
    return value.items.map((item) => this.entry(item));
  }

  private entry(pair: Pair): ModelEntry {
    const model = this.key(pair, "models");
    const where = `models.${model}`;
    if (!MODEL_NAME_PATTERN.test(model)) {
      this.fail(
        pair.key as Node,
        `'${model}' is not a valid model name: use letters, digits, '.', '_' and '-'`,
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
      const key = this.key(field, where);
      if (!ENTRY_FIELDS.includes(key)) {
        this.fail(
          field.key as Node,
          `${where}: unknown field '${key}'; valid: ${ENTRY_FIELDS.join(", ")}`,
        );
      }
      fields.set(key, field.value as Node | null);
    }
    if (!fields.has("from")) {
      this.fail(
        pair.key as Node,
        `${where}: 'from' is missing (the stage whose output to register)`,
      );
    }
    const from = this.stageName(fields.get("from")!, `${where}.from`);
    const entry: ModelEntry = {
      model,
      from,
      metrics: this.list(fields.get("metrics"), `${where}.metrics`).map(([n, node]) =>
        this.stageName(node, `${where}.metrics`, n),
      ),
      gate: this.list(fields.get("gate"), `${where}.gate`).map(([t, node], i) =>
        this.condition(t, node, `${where}.gate[${i}]`),
      ),
      where: this.at(pair.key as Node),
    };
    if (fields.has("path")) {
      entry.path = this.string(fields.get("path")!, `${where}.path`).replace(/^\.\//, "");
    }
    this.checkOutput(entry, fields.get("path") ?? fields.get("from")!, where);
    if (fields.has("description")) {
      entry.description = this.string(fields.get("description")!, `${where}.description`);
    }
    if (fields.has("alias")) {
      entry.alias = this.alias(fields.get("alias")!, `${where}.alias`);
    }
    return entry;
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
    const known = this.pipeline.stages.map((s) => s.name);
    if (!known.includes(stage)) {
      this.fail(node, `${where}: no stage named '${stage}'; stages: ${known.join(", ")}`);
    }
    return stage;
  }

  /** The output must be one file the stage writes: named by `path`, or its only .onnx out. */
  private checkOutput(entry: ModelEntry, node: Node | null, where: string): void {
    const stage = this.pipeline.stages.find((s) => s.name === entry.from)!;
    const outs = stageOutputs(stage).map((o) => o.wsPath);
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
    const pos = this.lines.linePos(node?.range?.[0] ?? 0);
    throw new LatheError("LATHE_BAD_FILE", `${this.at(node)}: ${message}`, {
      file: this.file,
      line: pos.line,
      col: pos.col,
    });
  }
}
