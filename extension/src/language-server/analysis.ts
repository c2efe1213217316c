/**
 * The language server's model of one pipeline file, built from whatever part of the text parses:
 * stages with the offsets of their names, deps, outs and params, the `vars` definitions and every
 * `${…}` reference. Pure (no file system), never throws, so it works on half-typed YAML.
 */
import { posix } from "node:path";
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Pair,
} from "yaml";

/** Offsets into the text, end exclusive. */
export interface Span {
  start: number;
  end: number;
}

export type OutputField = "outs" | "metrics" | "plots";

export interface PathRef {
  field: "deps" | OutputField;
  /** As written, relative to the stage's wdir. */
  path: string;
  /** Workspace-relative, normalised, no trailing slash; undefined when templated or outside. */
  wsPath: string | undefined;
  span: Span;
  stage: StageInfo;
}

export interface ParamRef {
  /** Workspace-relative params file. */
  file: string;
  key: string;
  span: Span;
  stage: StageInfo;
  /** True when written in `{file: [keys]}` form. */
  explicitFile: boolean;
}

export interface ParamFileRef {
  file: string;
  span: Span;
  stage: StageInfo;
}

export interface StageInfo {
  name: string;
  keySpan: Span;
  /** From the name to the end of the stage's body. */
  span: Span;
  /** The stage's mapping (the `do:` mapping for foreach stages). */
  body: Node | null;
  wdir: string;
  /** Field name → key span, in file order. */
  fields: Map<string, Span>;
  deps: PathRef[];
  outputs: PathRef[];
  params: ParamRef[];
  paramFiles: ParamFileRef[];
  /** A foreach/matrix stage: its paths may hold `${item}`. */
  template: boolean;
}

export interface VarDef {
  /** Dotted name. */
  name: string;
  value: unknown;
  /** Where it is defined in this file; undefined for vars read from a params file. */
  span: Span | undefined;
  /** The params file it comes from, when `vars: [file.yaml]`. */
  file: string | undefined;
}

export interface VarRef {
  name: string;
  /** The name inside `${…}`. */
  span: Span;
}

export interface SyntaxError {
  span: Span;
  message: string;
}

export interface PipelineModel {
  text: string;
  doc: Document;
  lines: LineCounter;
  stages: StageInfo[];
  stagesByName: Map<string, StageInfo>;
  /** Inline vars; file vars are resolved by the caller (they need the file system). */
  vars: VarDef[];
  varFiles: { file: string; keys: string[] | undefined; span: Span }[];
  varRefs: VarRef[];
  syntaxErrors: SyntaxError[];
}

export const DEFAULT_PARAMS_FILE = "params.yaml";

export function analyse(text: string): PipelineModel {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    keepSourceTokens: true,
    uniqueKeys: false,
  });
  const model: PipelineModel = {
    text,
    doc,
    lines,
    stages: [],
    stagesByName: new Map(),
    vars: [],
    varFiles: [],
    varRefs: varRefs(text),
    syntaxErrors: [...doc.errors].map((e) => ({
      span: { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) },
      message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
    })),
  };
  const root = doc.contents;
  if (!isMap(root)) {
    return model;
  }
  for (const pair of root.items) {
    const key = keyText(pair);
    if (key === "stages" && isMap(pair.value)) {
      for (const stagePair of pair.value.items) {
        const stage = readStage(stagePair);
        if (stage) {
          model.stages.push(stage);
          if (!model.stagesByName.has(stage.name)) {
            model.stagesByName.set(stage.name, stage);
          }
        }
      }
    } else if (key === "vars" && isSeq(pair.value)) {
      readVars(pair.value.items, model);
    }
  }
  return model;
}

/** The text of a pair's key when it is a plain scalar. */
export function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key) && (typeof key.value === "string" || typeof key.value === "number")) {
    return String(key.value);
  }
  return undefined;
}

export function spanOf(node: unknown): Span {
  const range = (node as Node | null)?.range;
  return range ? { start: range[0], end: range[1] } : { start: 0, end: 0 };
}

function readStage(pair: Pair): StageInfo | undefined {
  const name = keyText(pair);
  if (name === undefined) {
    return undefined;
  }
  const keySpan = spanOf(pair.key);
  const value = pair.value as Node | null;
  const stageEnd = Math.max(keySpan.end, value?.range?.[1] ?? keySpan.end);
  const stage: StageInfo = {
    name,
    keySpan,
    span: { start: keySpan.start, end: stageEnd },
    body: null,
    wdir: "",
    fields: new Map(),
    deps: [],
    outputs: [],
    params: [],
    paramFiles: [],
    template: false,
  };
  if (!isMap(value)) {
    return stage;
  }
  let body: Node = value;
  for (const item of value.items) {
    const key = keyText(item);
    if (key === "foreach" || key === "matrix") {
      stage.template = true;
    }
    if (key === "do" && isMap(item.value)) {
      body = item.value;
      stage.template = true;
    }
  }
  stage.body = body;
  if (!isMap(body)) {
    return stage;
  }
  const fields = new Map<string, Node | null>();
  for (const item of body.items) {
    const key = keyText(item);
    if (key !== undefined) {
      stage.fields.set(key, spanOf(item.key));
      fields.set(key, item.value as Node | null);
    }
  }
  const wdir = fields.get("wdir");
  if (isScalar(wdir) && typeof wdir.value === "string") {
    stage.wdir = normalise("", wdir.value) ?? "";
  }
  stage.deps = pathRefs(fields.get("deps"), "deps", stage);
  for (const field of ["outs", "metrics", "plots"] as const) {
    stage.outputs.push(...pathRefs(fields.get(field), field, stage));
  }
  readParams(fields.get("params"), stage);
  return stage;
}

function pathRefs(node: Node | null | undefined, field: PathRef["field"], stage: StageInfo) {
  const refs: PathRef[] = [];
  if (!isSeq(node)) {
    return refs;
  }
  for (const item of node.items) {
    let target: unknown = item;
    if (isMap(item) && item.items[0]) {
      target = item.items[0].key;
    }
    if (
      isScalar(target) &&
      (typeof target.value === "string" || typeof target.value === "number")
    ) {
      const path = String(target.value);
      refs.push({
        field,
        path,
        wsPath: path.includes("${") ? undefined : normalise(stage.wdir, path),
        span: spanOf(target),
        stage,
      });
    }
  }
  return refs;
}

function readParams(node: Node | null | undefined, stage: StageInfo): void {
  if (!isSeq(node)) {
    return;
  }
  const defaultFile = posix.join(stage.wdir, DEFAULT_PARAMS_FILE);
  for (const item of node.items) {
    if (isScalar(item) && typeof item.value === "string") {
      stage.params.push({
        file: defaultFile,
        key: item.value,
        span: spanOf(item),
        stage,
        explicitFile: false,
      });
    } else if (isMap(item)) {
      for (const pair of item.items) {
        const name = keyText(pair);
        const file = name === undefined ? undefined : normalise(stage.wdir, name);
        if (file === undefined) {
          continue;
        }
        stage.paramFiles.push({ file, span: spanOf(pair.key), stage });
        if (isSeq(pair.value)) {
          for (const key of pair.value.items) {
            if (isScalar(key) && (typeof key.value === "string" || typeof key.value === "number")) {
              stage.params.push({
                file,
                key: String(key.value),
                span: spanOf(key),
                stage,
                explicitFile: true,
              });
            }
          }
        }
      }
    }
  }
}

function readVars(items: Node[], model: PipelineModel): void {
  for (const item of items) {
    if (isScalar(item) && typeof item.value === "string") {
      const [file, keys] = item.value.split(":");
      model.varFiles.push({
        file: normalise("", file!) ?? file!,
        keys: keys?.split(",").map((k) => k.trim()),
        span: spanOf(item),
      });
    } else if (isMap(item)) {
      flattenVars(item, "", model.vars);
    }
  }
}

function flattenVars(node: Node, prefix: string, out: VarDef[]): void {
  if (!isMap(node)) {
    return;
  }
  for (const pair of node.items) {
    const key = keyText(pair);
    if (key === undefined) {
      continue;
    }
    const name = prefix ? `${prefix}.${key}` : key;
    const value = pair.value as Node | null;
    out.push({ name, value: value?.toJSON?.() ?? null, span: spanOf(pair.key), file: undefined });
    if (isMap(value)) {
      flattenVars(value, name, out);
    }
  }
}

function varRefs(text: string): VarRef[] {
  const refs: VarRef[] = [];
  const pattern = /\$\{\s*([^}\s]*)\s*\}/g;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const start = m.index + m[0].indexOf(m[1]!, 2);
    refs.push({ name: m[1]!, span: { start, end: start + m[1]!.length } });
  }
  return refs;
}

/** `wdir` + `path` as a normalised workspace path, or undefined when it leaves the workspace. */
export function normalise(wdir: string, path: string): string | undefined {
  const rel = posix.normalize(posix.join(wdir, path.replace(/\\/g, "/")));
  if (posix.isAbsolute(path) || rel === ".." || rel.startsWith("../")) {
    return undefined;
  }
  return rel.replace(/\/+$/, "") || ".";
}

/** True when `a` equals `b` or one lies inside the other. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`) || a === "." || b === ".";
}
