/**
 * What a `${…}` can read where it is written, as `lathe repro` expands it
 * (daemon/src/pipeline/vars.ts and expand.ts, dvc.yaml's rules): params.yaml's values, then each
 * `vars:` entry in order, a later top-level name replacing an earlier one whole; inside a
 * foreach stage's `do`, `item` (and `key`, over a mapping); inside a matrix stage, `item.<axis>`.
 * Each name comes with its value and where it is defined, for completion, hover and definition.
 */
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { lookupVar, type Vars } from "../../../daemon/src/pipeline/template";
import { DEFAULT_PARAMS_FILE, type StageInfo } from "./analysis";
import { contains, type DocContext } from "./context";
import { keyText, spanOf, type Span } from "./yamlNodes";
import { valueText, type ParamsFile } from "./workspaceFiles";

export interface VarDef {
  /** Dotted name. */
  name: string;
  /** The value; a loop variable has one per repetition. */
  values: unknown[];
  /** The value as shown: as written in its file for a params or vars file. */
  display: string;
  origin: "params.yaml" | "vars" | "vars file" | "foreach" | "matrix";
  /** The workspace-relative file it is read from; undefined when defined in this document. */
  file?: string;
  /** Where it is defined in the file: the key's line and character (0-based). */
  key?: { abs: string; line: number; character: number; length: number };
  /** Where it is defined in this document (a vars key, a foreach list, a matrix axis). */
  spans: Span[];
  /** The foreach/matrix stage of a loop variable. */
  stage?: StageInfo;
}

/** The names a `${…}` at `offset` reads: the stage's loop variables first, then the pipeline's. */
export function varsAt(ctx: DocContext, offset: number): VarDef[] {
  const globals = globalVars(ctx);
  const stage = ctx.model.stages.find((s) => s.template && contains(s.span, offset));
  const locals = stage ? loopVars(ctx, stage, offset) : [];
  const shadowed = new Set(locals.map((d) => topOf(d.name)));
  return [...locals, ...globals.filter((d) => !shadowed.has(topOf(d.name)))];
}

/** The definition `name` (`train.lr`, `list[0]`, `item.x`) reads, with its value(s) there. */
export function resolveVar(
  defs: VarDef[],
  name: string,
): { def: VarDef; values: unknown[] } | undefined {
  const steps = name.split(/\.|(?=\[)/);
  for (let n = steps.length; n > 0; n--) {
    const def = defs.find((d) => d.name === joinSteps(steps.slice(0, n)));
    if (!def) {
      continue;
    }
    const values = def.values.map((v) => walk(v, steps.slice(n)));
    return values.some((v) => v !== undefined) ? { def, values } : undefined;
  }
  return undefined;
}

/** Values shown together: `small | big`, cut to about 60 characters. */
export function valuesText(values: unknown[]): string {
  const shown = [...new Set(values.map((v) => (typeof v === "string" ? v : valueText(v))))];
  const text = shown.join(" | ");
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** The pipeline's vars as one object, as `lathe repro` substitutes them. */
export function pipelineVars(ctx: DocContext): Vars {
  const vars: Vars = {};
  Object.assign(vars, mappingOf(paramsData(ctx, DEFAULT_PARAMS_FILE)));
  for (const entry of ctx.model.varsEntries) {
    if (entry.kind === "inline") {
      Object.assign(vars, entry.value);
      continue;
    }
    const data = mappingOf(paramsData(ctx, entry.file));
    for (const key of entry.keys ?? Object.keys(data)) {
      if (Object.hasOwn(data, key)) {
        vars[key] = data[key];
      }
    }
  }
  return vars;
}

/** params.yaml's names, then each `vars:` entry's, a later top-level name replacing the earlier. */
function globalVars(ctx: DocContext): VarDef[] {
  const byTop = new Map<string, VarDef[]>();
  const define = (defs: VarDef[]) => {
    const fresh = new Map<string, VarDef[]>();
    for (const def of defs) {
      fresh.set(topOf(def.name), [...(fresh.get(topOf(def.name)) ?? []), def]);
    }
    for (const [top, group] of fresh) {
      byTop.set(top, group);
    }
  };
  const params = ctx.files?.paramsFile(DEFAULT_PARAMS_FILE);
  define(params ? fileVars(params, "params.yaml", undefined) : []);
  for (const entry of ctx.model.varsEntries) {
    if (entry.kind === "inline") {
      define(entry.vars.map((v) => ({
        name: v.name,
        values: [v.value],
        display: valueText(v.value),
        origin: "vars",
        spans: [v.span],
      })));
    } else {
      const file = ctx.files?.paramsFile(entry.file);
      define(file ? fileVars(file, "vars file", entry.keys) : []);
    }
  }
  return [...byTop.values()].flat();
}

function fileVars(file: ParamsFile, origin: VarDef["origin"], keys: string[] | undefined) {
  const defs: VarDef[] = [];
  for (const key of file.keys.values()) {
    if (keys && !keys.includes(topOf(key.key))) {
      continue;
    }
    defs.push({
      name: key.key,
      values: [key.value],
      display: key.display,
      origin,
      file: file.file,
      key: {
        abs: file.abs,
        line: key.line,
        character: key.character,
        length: key.key.split(".").pop()!.length,
      },
      spans: [],
    });
  }
  return defs;
}

/** Values of one loop variable gathered over the repetitions, with the keys defining it. */
type Gathered = Map<string, { values: unknown[]; spans: Span[] }>;

/** `item`, `key` and `item.<…>` inside a foreach stage's `do`, `item.<axis>` in a matrix stage. */
function loopVars(ctx: DocContext, stage: StageInfo, offset: number): VarDef[] {
  const value = stage.value;
  const generator = isMap(value)
    ? value.items.find((p) => keyText(p) === "foreach" || keyText(p) === "matrix")
    : undefined;
  const node = generator?.value as Node | null | undefined;
  if (!generator || !node) {
    return [];
  }
  const span = trimmed(spanOf(node, stage.base), ctx.model.text);
  if (contains(span, offset)) {
    return []; // The list itself is read with the pipeline's vars only.
  }
  const origin = keyText(generator) as "foreach" | "matrix";
  const items = loopValue(ctx, stage, node);
  const gathered: Gathered = new Map();
  const at = (n: Node | null | undefined) => (isSeq(n) ? (n.items as Node[]) : []);
  if (origin === "matrix") {
    for (const [axis, list] of Object.entries(mappingOf(items))) {
      const pair = isMap(node) ? node.items.find((p) => keyText(p) === axis) : undefined;
      const axisSpan = pair ? spanOf(pair.key, stage.base) : span;
      (Array.isArray(list) ? list : []).forEach((v, i) =>
        gather(gathered, `item.${axis}`, v, axisSpan, at(pair?.value as Node)[i], stage.base),
      );
    }
  } else if (Array.isArray(items)) {
    items.forEach((v, i) => gather(gathered, "item", v, span, at(node)[i], stage.base));
  } else {
    for (const [key, v] of Object.entries(mappingOf(items))) {
      const pair = isMap(node) ? node.items.find((p) => keyText(p) === key) : undefined;
      gather(gathered, "key", key, span, undefined, stage.base);
      gather(gathered, "item", v, span, pair?.value as Node | undefined, stage.base);
    }
  }
  return [...gathered].map(([name, { values, spans }]) => ({
    name,
    values,
    display: valuesText(values),
    origin,
    spans: spans.length ? spans : [span],
    stage,
  }));
}

/** Adds one repetition's value of `name`, and of each name inside it when it is a mapping. */
function gather(
  out: Gathered,
  name: string,
  value: unknown,
  keySpan: Span | undefined,
  node: Node | null | undefined,
  base: number,
): void {
  const entry = out.get(name) ?? { values: [], spans: [] };
  out.set(name, entry);
  entry.values.push(value);
  if (keySpan && !entry.spans.some((s) => s.start === keySpan.start)) {
    entry.spans.push(keySpan);
  }
  for (const [key, inner] of Object.entries(mappingOf(value))) {
    const pair = isMap(node) ? node.items.find((p) => keyText(p) === key) : undefined;
    const span = pair ? spanOf(pair.key, base) : undefined;
    gather(out, `${name}.${key}`, inner, span, pair?.value as Node | undefined, base);
  }
}

/** A foreach list or matrix as written, or the value of the `${var}` it is written as. */
function loopValue(ctx: DocContext, stage: StageInfo, node: Node): unknown {
  const whole =
    isScalar(node) && typeof node.value === "string"
      ? /^\$\{\s*([^}]*?)\s*\}$/.exec(node.value)
      : null;
  if (!whole) {
    return node.toJSON();
  }
  try {
    return lookupVar(pipelineVars(ctx), whole[1]!, node, ctx.model.text.slice(stage.base));
  } catch {
    return undefined; // An unknown variable: the `${…}` itself says so on hover.
  }
}

/** A block collection's span ends after its last line's newline; the text ends before it. */
function trimmed(span: Span, text: string): Span {
  let end = span.end;
  while (end > span.start && /\s/.test(text[end - 1]!)) {
    end--;
  }
  return { start: span.start, end };
}

function paramsData(ctx: DocContext, file: string): unknown {
  return ctx.files?.paramsFile(file)?.data;
}

function mappingOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function topOf(name: string): string {
  return name.split(/\.|\[/)[0]!;
}

function joinSteps(steps: string[]): string {
  return steps.reduce(
    (name, step) => (step.startsWith("[") || !name ? name + step : `${name}.${step}`),
    "",
  );
}

/** `value` followed by `steps` (`x`, `[0]`); undefined when a step is missing. */
function walk(value: unknown, steps: string[]): unknown {
  let at = value;
  for (const step of steps) {
    const index = /^\[(\d+)\]$/.exec(step);
    if (index) {
      at = Array.isArray(at) ? (at as unknown[])[Number(index[1])] : undefined;
    } else {
      const map = mappingOf(at);
      at = Object.hasOwn(map, step) ? map[step] : undefined;
    }
    if (at === undefined) {
      return undefined;
    }
  }
  return at;
}
