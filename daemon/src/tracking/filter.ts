/**
 * MLflow's search filter language, parsed: `metrics.acc > 0.8 and params.lr = '0.01'`,
 * `attributes.status = 'FINISHED'`, `tags."my tag" LIKE 'x%'`, `run_id IN ('a', 'b')`,
 * `tags.t IS NULL`. Conditions are joined by AND only, as in MLflow. Also `order_by` clauses.
 */
import { mlflowError } from "./mlflow/errors";

export type Entity = "metric" | "param" | "tag" | "attribute";
export type Comparator =
  | "="
  | "!="
  | ">"
  | ">="
  | "<"
  | "<="
  | "LIKE"
  | "ILIKE"
  | "IN"
  | "NOT IN"
  | "IS NULL"
  | "IS NOT NULL";

export interface Identifier {
  entity: Entity;
  key: string;
}

export interface Condition extends Identifier {
  comparator: Comparator;
  /** A number, a string, a list of strings (IN), or null (IS NULL). */
  value: number | string | string[] | null;
}

export interface OrderClause extends Identifier {
  ascending: boolean;
}

const ENTITY_ALIASES: Record<string, Entity> = {
  metric: "metric",
  metrics: "metric",
  param: "param",
  params: "param",
  parameter: "param",
  parameters: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  run: "attribute",
};

type Token =
  | { kind: "word"; text: string }
  | { kind: "string"; text: string }
  | { kind: "quoted"; text: string } // `backticks`: always an identifier part
  | { kind: "number"; value: number }
  | { kind: "op"; text: string }
  | { kind: "punct"; text: "(" | ")" | "," | "." };

function bad(message: string): never {
  throw mlflowError("INVALID_PARAMETER_VALUE", message);
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s*(?:(`[^`]*`)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\p{L}_]))|(!=|<>|>=|<=|=|<|>)|([(),.])|([\p{L}\p{N}_\-/:]+))/uy;
  let at = 0;
  while (at < input.length) {
    if (/^\s*$/.test(input.slice(at))) {
      break;
    }
    re.lastIndex = at;
    const m = re.exec(input);
    if (!m) {
      bad(`Invalid filter '${input}': unexpected text at '${input.slice(at).trim()}'.`);
    }
    at = re.lastIndex;
    if (m[1]) {
      tokens.push({ kind: "quoted", text: m[1].slice(1, -1) });
    } else if (m[2]) {
      tokens.push({ kind: "string", text: unquote(m[2]) });
    } else if (m[3]) {
      tokens.push({ kind: "number", value: Number(m[3]) });
    } else if (m[4]) {
      tokens.push({ kind: "op", text: m[4] === "<>" ? "!=" : m[4] });
    } else if (m[5]) {
      tokens.push({ kind: "punct", text: m[5] as "(" | ")" | "," | "." });
    } else {
      tokens.push({ kind: "word", text: m[6]! });
    }
  }
  return tokens;
}

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, "$1");
}

class Cursor {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token {
    const t = this.tokens[this.i++];
    return t ?? bad(`Invalid filter '${this.source}': it ends too early.`);
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  isWord(text: string): boolean {
    const t = this.peek();
    return t?.kind === "word" && t.text.toUpperCase() === text;
  }
  expectPunct(text: string): void {
    const t = this.next();
    if (t.kind !== "punct" || t.text !== text) {
      bad(`Invalid filter '${this.source}': expected '${text}'.`);
    }
  }
}

/** `metrics.acc`, `params."learning rate"`, `tags.\`a b\``, `status` (an attribute). */
function parseIdentifier(c: Cursor, source: string): Identifier {
  const first = c.next();
  if (first.kind !== "word" && first.kind !== "quoted") {
    bad(`Invalid filter '${source}': expected an identifier such as metrics.accuracy.`);
  }
  const entity = first.kind === "word" ? ENTITY_ALIASES[first.text.toLowerCase()] : undefined;
  const next = c.peek();
  if (entity && next?.kind === "punct" && next.text === ".") {
    c.next();
    return { entity, key: parseKey(c, source) };
  }
  // A bare word is an attribute (`status`, `run_name`); dotted words are split by the tokenizer.
  return { entity: "attribute", key: first.text };
}

function parseKey(c: Cursor, source: string): string {
  const t = c.next();
  if (t.kind === "quoted" || t.kind === "string") {
    return t.text;
  }
  if (t.kind !== "word") {
    bad(`Invalid filter '${source}': expected a key after the '.'.`);
  }
  // A bare key may itself hold dots: metrics.train.loss is the metric "train.loss".
  let key = t.text;
  while (c.peek()?.kind === "punct" && (c.peek() as { text: string }).text === ".") {
    c.next();
    const part = c.next();
    key += `.${part.kind === "number" ? String(part.value) : (part as { text: string }).text}`;
  }
  return key;
}

function parseComparator(c: Cursor, source: string): Comparator {
  const t = c.next();
  if (t.kind === "op") {
    return t.text as Comparator;
  }
  const word = t.kind === "word" ? t.text.toUpperCase() : "";
  if (word === "LIKE" || word === "ILIKE" || word === "IN") {
    return word;
  }
  if (word === "NOT" && c.isWord("IN")) {
    c.next();
    return "NOT IN";
  }
  if (word === "IS") {
    const not = c.isWord("NOT");
    if (not) {
      c.next();
    }
    if (!c.isWord("NULL")) {
      bad(`Invalid filter '${source}': expected NULL after IS.`);
    }
    c.next();
    return not ? "IS NOT NULL" : "IS NULL";
  }
  return bad(`Invalid filter '${source}': unknown comparator near '${tokenText(t)}'.`);
}

function parseValue(c: Cursor, comparator: Comparator, source: string): Condition["value"] {
  if (comparator === "IS NULL" || comparator === "IS NOT NULL") {
    return null;
  }
  if (comparator === "IN" || comparator === "NOT IN") {
    c.expectPunct("(");
    const values: string[] = [];
    for (;;) {
      const t = c.next();
      if (t.kind !== "string") {
        bad(`Invalid filter '${source}': IN takes a list of quoted strings.`);
      }
      values.push(t.text);
      const sep = c.next();
      if (sep.kind === "punct" && sep.text === ")") {
        return values;
      }
      if (sep.kind !== "punct" || sep.text !== ",") {
        bad(`Invalid filter '${source}': expected ',' or ')'.`);
      }
    }
  }
  const t = c.next();
  if (t.kind === "number") {
    return t.value;
  }
  if (t.kind === "string") {
    return t.text;
  }
  return bad(
    `Invalid filter '${source}': expected a number or a quoted string, got '${tokenText(t)}'.`,
  );
}

function tokenText(t: Token): string {
  return t.kind === "number" ? String(t.value) : t.text;
}

/** Parses a filter string; empty or missing means no conditions. */
export function parseFilter(source: string | undefined): Condition[] {
  if (!source || source.trim() === "") {
    return [];
  }
  const c = new Cursor(tokenize(source), source);
  const conditions: Condition[] = [];
  for (;;) {
    const id = parseIdentifier(c, source);
    const comparator = parseComparator(c, source);
    conditions.push({ ...id, comparator, value: parseValue(c, comparator, source) });
    if (c.done()) {
      return conditions;
    }
    if (!c.isWord("AND")) {
      bad(`Invalid filter '${source}': conditions are joined with AND.`);
    }
    c.next();
  }
}

/** Parses one `order_by` clause: `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`. */
export function parseOrderBy(source: string): OrderClause {
  const c = new Cursor(tokenize(source), source);
  const id = parseIdentifier(c, source);
  let ascending = true;
  if (c.isWord("ASC") || c.isWord("DESC")) {
    ascending = (c.next() as { text: string }).text.toUpperCase() === "ASC";
  }
  if (!c.done()) {
    bad(`Invalid order_by clause '${source}'.`);
  }
  return { ...id, ascending };
}
