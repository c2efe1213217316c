/**
 * `foreach`/`do` and `matrix`: one written stage that stands for several. Each generated stage
 * is named `name@key` (foreach over a mapping, or a list of scalars), `name@index` (a list of
 * mappings) or `name@v1-v2` (matrix), as dvc names them, and gets `${item}` (and `${key}`)
 * on top of the pipeline's vars. Bodies are substituted here; parse.ts then reads them as any
 * other stage.
 */
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from "yaml";
import { hasTemplate, substitute, type Vars } from "./template";

export interface StageSource {
  /** The stage's name: as written, or `name@key` when generated. */
  name: string;
  /** The stage's fields with `${…}` already substituted. */
  body: Node | null;
  /** The written stage's key, for its position. */
  keyNode: Node;
  /** For a generated stage, the name written in the file. */
  group: string | null;
}

export type Fail = (node: unknown, message: string) => never;

const GENERATORS = ["foreach", "do", "matrix"];

/** The stages one `name: {...}` entry stands for. */
export function expandStage(
  pair: Pair,
  name: string,
  vars: Vars,
  source: string,
  fail: Fail,
): StageSource[] {
  const keyNode = pair.key as Node;
  const node = pair.value as Node | null;
  const fields = isMap(node) ? fieldNames(node) : [];
  const where = `stage '${name}': `;
  if (fields.includes("foreach") || fields.includes("do")) {
    return foreach(node as YAMLMap, { name, keyNode, vars, source, fail, where });
  }
  if (fields.includes("matrix")) {
    return matrix(node as YAMLMap, { name, keyNode, vars, source, fail, where });
  }
  const body = node && needsSubstitution(node, source) ? substitute(node, vars, source) : node;
  return [{ name, body, keyNode, group: null }];
}

interface Scope {
  name: string;
  keyNode: Node;
  vars: Vars;
  source: string;
  fail: Fail;
  where: string;
}

function foreach(node: YAMLMap, scope: Scope): StageSource[] {
  const { where } = scope;
  const extra = fieldNames(node).filter((f) => f !== "foreach" && f !== "do");
  if (extra.length > 0) {
    scope.fail(
      field(node, extra[0]!)?.key,
      `${where}a foreach stage has only 'foreach' and 'do'; move '${extra[0]}' into 'do'`,
    );
  }
  const over = field(node, "foreach");
  const body = field(node, "do");
  if (!over) {
    scope.fail(body?.key, `${where}'do' needs a 'foreach' list or mapping to repeat over`);
  }
  if (!body || !isMap(body.value)) {
    scope.fail(
      body?.value ?? over.key,
      `${where}'foreach' needs a 'do' mapping: the stage to repeat`,
    );
  }
  const items = valueOf(over.value as Node, scope);
  const entries = foreachEntries(items, over.value as Node, scope);
  return entries.map(([key, item, isDict]) => {
    const vars = isDict ? { ...scope.vars, key, item } : { ...scope.vars, item };
    return {
      name: `${scope.name}@${key}`,
      body: substitute(body.value as Node, vars, scope.source),
      keyNode: scope.keyNode,
      group: scope.name,
    };
  });
}

/** `[key, item, fromMapping]` for each repetition. */
function foreachEntries(items: unknown, node: Node, scope: Scope): [string, unknown, boolean][] {
  if (Array.isArray(items) && items.length > 0) {
    const scalars = items.every(isScalarValue);
    return items.map((item, i) => [scalars ? String(item) : String(i), item, false]);
  }
  if (isRecord(items) && Object.keys(items).length > 0) {
    return Object.entries(items).map(([key, item]) => [key, item, true]);
  }
  return scope.fail(node, `${scope.where}'foreach' must be a non-empty list or mapping`);
}

function matrix(node: YAMLMap, scope: Scope): StageSource[] {
  const { where } = scope;
  const pair = field(node, "matrix")!;
  const axes = valueOf(pair.value as Node, scope);
  if (!isRecord(axes) || Object.keys(axes).length === 0) {
    scope.fail(pair.value, `${where}'matrix' must map names to non-empty lists`);
  }
  for (const [axis, values] of Object.entries(axes)) {
    if (!Array.isArray(values) || values.length === 0) {
      scope.fail(pair.value, `${where}'matrix' entry '${axis}' must be a non-empty list`);
    }
  }
  const rest = node.clone() as YAMLMap;
  rest.items = rest.items.filter((p) => !(isScalar(p.key) && p.key.value === "matrix"));
  return cartesian(axes as Record<string, unknown[]>).map((combo) => {
    const item = Object.fromEntries(combo.map(([axis, value]) => [axis, value]));
    const suffix = combo.map(([axis, value, i]) =>
      isScalarValue(value) ? String(value) : `${axis}${i}`,
    );
    return {
      name: `${scope.name}@${suffix.join("-")}`,
      body: substitute(rest, { ...scope.vars, item }, scope.source),
      keyNode: scope.keyNode,
      group: scope.name,
    };
  });
}

/** Every combination, first axis slowest: `[axis, value, index]` per axis. */
function cartesian(axes: Record<string, unknown[]>): [string, unknown, number][][] {
  let combos: [string, unknown, number][][] = [[]];
  for (const [axis, values] of Object.entries(axes)) {
    combos = combos.flatMap((combo) =>
      values.map((value, i): [string, unknown, number][] => [...combo, [axis, value, i]]),
    );
  }
  return combos;
}

/** A node's plain value after substitution (`foreach: ${regions}` is a list from vars). */
function valueOf(node: Node, scope: Scope): unknown {
  const resolved = needsSubstitution(node, scope.source)
    ? substitute(node, scope.vars, scope.source)
    : node;
  return resolved.toJSON();
}

function needsSubstitution(node: Node, source: string): boolean {
  const [start, end] = node.range ?? [0, source.length];
  return hasTemplate(source.slice(start, end));
}

function fieldNames(node: YAMLMap): string[] {
  return node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ""));
}

function field(node: YAMLMap, name: string): Pair | undefined {
  return node.items.find((p): p is Pair => isScalar(p.key) && p.key.value === name);
}

function isScalarValue(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export { GENERATORS };
