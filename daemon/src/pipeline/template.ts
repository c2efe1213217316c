/**
 * `${…}` templating, as in dvc.yaml: `${name}`, `${a.b}`, `${list[0]}`, `${item.x}`. A value that
 * is a whole `${…}` takes the variable's type (a list, a mapping, a number); inside other text a
 * scalar is written as text and a list as its items joined by spaces. `\${` is a literal `${`.
 * Substitution works on the YAML AST and keeps each node's range, so later errors still point
 * into the file.
 */
import { Document, isMap, isPair, isScalar, isSeq, Scalar, visit, type Node } from "yaml";

export type Vars = Record<string, unknown>;

/** A problem with one `${…}`: what is wrong, and where in the node's source it starts. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly node: Node,
    readonly offset: number,
  ) {
    super(message);
  }
}

const EXPRESSION = /(\\?)\$\{\s*([^}]*?)\s*\}/g;
const PATH = /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/;

/** True when the text holds a `${…}` to substitute (or an escaped `\${` to unescape). */
export function hasTemplate(text: string): boolean {
  return text.includes("${");
}

/** A copy of `node` with every `${…}` in its strings (keys and values) replaced from `vars`. */
export function substitute(node: Node, vars: Vars, source: string): Node {
  return transform(node.clone() as Node, vars, source);
}

/** Replaces in place, below `node`; a replaced scalar is not looked at again (`\${` stays). */
function transform(node: Node, vars: Vars, source: string): Node {
  if (isScalar(node)) {
    const text = node.value;
    return typeof text === "string" && hasTemplate(text)
      ? substituteScalar(node, vars, source)
      : node;
  }
  if (isSeq(node)) {
    node.items = node.items.map((item) => transform(item as Node, vars, source));
  } else if (isMap(node)) {
    for (const pair of node.items) {
      pair.key = transform(pair.key as Node, vars, source);
      pair.value = pair.value === null ? null : transform(pair.value as Node, vars, source);
    }
  }
  return node;
}

function substituteScalar(scalar: Scalar, vars: Vars, source: string): Node {
  const text = scalar.value as string;
  const whole = /^\$\{\s*([^}]*?)\s*\}$/.exec(text);
  if (whole) {
    const value = lookupVar(vars, whole[1]!, scalar, source);
    return withRange(new Document().createNode(value), scalar.range);
  }
  const out = text.replace(EXPRESSION, (match, escape: string, expr: string) => {
    if (escape) {
      return match.slice(1);
    }
    const value = lookupVar(vars, expr, scalar, source, match);
    return inline(value, expr, scalar, source, match);
  });
  return withRange(new Scalar(out), scalar.range);
}

/** The value of `a.b[0]` in vars; a TemplateError when any step is missing. */
export function lookupVar(
  vars: Vars,
  expr: string,
  node: Node,
  source: string,
  match = `\${${expr}}`,
): unknown {
  const offset = offsetOf(node, source, match);
  if (!PATH.test(expr)) {
    throw new TemplateError(
      `'${match}' is not supported: Lathe substitutes variable names (a.b, list[0]) only, not expressions`,
      node,
      offset,
    );
  }
  let value: unknown = vars;
  let path = "";
  for (const step of expr.split(/\.|(?=\[)/)) {
    const index = /^\[(\d+)\]$/.exec(step);
    const next: unknown = index
      ? Array.isArray(value)
        ? (value as unknown[])[Number(index[1])]
        : undefined
      : isRecord(value) && Object.hasOwn(value, step)
        ? value[step]
        : undefined;
    path = index ? `${path}${step}` : path ? `${path}.${step}` : step;
    if (next === undefined) {
      const known = isRecord(value) ? Object.keys(value).slice(0, 20).join(", ") : "";
      const hint = known ? `; defined here: ${known}` : "";
      throw new TemplateError(`unknown variable '${path}' in '${match}'${hint}`, node, offset);
    }
    value = next;
  }
  return value;
}

function inline(value: unknown, expr: string, node: Node, source: string, match: string): string {
  if (Array.isArray(value) && value.every((v) => !isRecord(v) && !Array.isArray(v))) {
    return value.map(String).join(" ");
  }
  if (isRecord(value) || Array.isArray(value)) {
    throw new TemplateError(
      `'${match}' is a ${Array.isArray(value) ? "nested list" : "mapping"}; Lathe does not unpack it into text (dvc's dict unpacking is not supported): name each value, like \${${expr}.key}`,
      node,
      offsetOf(node, source, match),
    );
  }
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Where `match` starts in the node's source text (0 when it cannot be found, e.g. escapes). */
function offsetOf(node: Node, source: string, match: string): number {
  const [start, end] = node.range ?? [0, 0];
  const found = source.slice(start, end).indexOf(match);
  return found < 0 ? 0 : found;
}

/** Gives `node` and everything inside it the range of the text it replaces. */
function withRange(node: Node, range: Node["range"]): Node {
  node.range = range;
  if (isMap(node) || isSeq(node)) {
    visit(node, {
      Node(_key, child) {
        child.range = range;
      },
      Pair(_key, pair) {
        if (isPair(pair) && isScalar(pair.key)) {
          pair.key.range = range;
        }
      },
    });
  }
  return node;
}
