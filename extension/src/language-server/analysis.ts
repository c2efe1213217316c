/**
 * The language server's model of one pipeline file, built from whatever part of the text parses:
 * stages with the offsets of their names, deps, outs and params, the `vars` definitions, every
 * `${…}` reference, syntax errors and schema problems. Pure (no file system), never throws, so it
 * works on half-typed YAML.
 *
 * Speed: a 500-stage file is 3,000 lines and `yaml` needs ~100 ms to parse it, more than a
 * keystroke may cost. So the `stages:` section is cut into one chunk per stage (at the stages'
 * indentation) and each chunk is parsed on its own, cached by its text: after an edit only the
 * edited stage is parsed again. The rest of the file (vars, experiment…) is parsed as one small
 * document. A file whose `stages:` is not a plain block mapping is parsed whole.
 */
import { posix } from "node:path";
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from "yaml";
import { validateRoot, validateStages } from "./schema";
import { readStageRefs, type StageRef } from "./stageRefs";
import { readVarsSection, type VarsEntry } from "./varsSection";
import { keyText, spanOf, type Span } from "./yamlNodes";

export { keyText, spanOf, type Span };

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
  /** The stage's mapping (the `do:` mapping for foreach stages); its ranges start at `base`. */
  body: Node | null;
  /** The stage's whole value (with `foreach`/`matrix`); its ranges start at `base`. */
  value: Node | null;
  /** Offset of the text the stage's nodes were parsed from. */
  base: number;
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

export interface VarRef {
  name: string;
  /** The name inside `${…}`. */
  span: Span;
}

export interface Problem {
  span: Span;
  message: string;
}

export interface PipelineModel {
  text: string;
  stages: StageInfo[];
  stagesByName: Map<string, StageInfo>;
  /** The top-level `vars:` entries in order; vars.ts resolves them (with the file system). */
  varsEntries: VarsEntry[];
  varRefs: VarRef[];
  /** Where `models:` names stages (`from`, `metrics`). */
  stageRefs: StageRef[];
  syntaxErrors: Problem[];
  schemaProblems: Problem[];
}

export const DEFAULT_PARAMS_FILE = "params.yaml";

/** A piece of the text parsed on its own; ranges inside are relative to its start. */
interface Parsed {
  doc: Document;
  errors: Problem[];
  problems: Problem[];
  /** The chunk's stages as last read, at the offset they were read at. */
  stages?: { base: number; stages: StageInfo[] };
}

/** Analyses successive versions of one document, re-parsing only the stages that changed. */
export class Analyser {
  private chunks = new Map<string, Parsed>();

  analyse(text: string): PipelineModel {
    const model: PipelineModel = {
      text,
      stages: [],
      stagesByName: new Map(),
      varsEntries: [],
      varRefs: varRefs(text),
      stageRefs: [],
      syntaxErrors: [],
      schemaProblems: [],
    };
    const section = stagesSection(text);
    if (!section) {
      const whole = parse(text, "root");
      collect(model, whole, 0);
      readRoot(model, whole.doc.contents, text, true);
      return model;
    }
    // The rest: the text around the stages section, `stages:` left with no value.
    const restText = text.slice(0, section.start) + text.slice(section.end);
    const rest = parse(restText, "root");
    const shift = (span: Span): Span =>
      span.start >= section.start
        ? {
            start: span.start + section.end - section.start,
            end: span.end + section.end - section.start,
          }
        : span;
    for (const e of rest.errors) {
      model.syntaxErrors.push({ span: shift(e.span), message: e.message });
    }
    for (const p of rest.problems) {
      model.schemaProblems.push({ span: shift(p.span), message: p.message });
    }
    readRoot(model, rest.doc.contents, restText, false);
    moveRootSpans(model, shift);
    const previous = this.chunks;
    this.chunks = new Map();
    for (const chunk of section.chunks) {
      const chunkText = text.slice(chunk.start, chunk.end);
      let parsed = previous.get(chunkText) ?? this.chunks.get(chunkText);
      if (!parsed) {
        parsed = parse(chunkText, "stages");
      }
      this.chunks.set(chunkText, parsed);
      collect(model, parsed, chunk.start);
      if (!parsed.stages) {
        const stages = readStageMap(parsed.doc.contents, chunk.start);
        parsed.stages = { base: chunk.start, stages };
      } else if (parsed.stages.base !== chunk.start) {
        const delta = chunk.start - parsed.stages.base;
        parsed.stages = {
          base: chunk.start,
          stages: parsed.stages.stages.map((st) => moved(st, delta)),
        };
      }
      addStages(model, parsed.stages.stages);
    }
    return model;
  }
}

/** One-shot analysis (no cache). */
export function analyse(text: string): PipelineModel {
  return new Analyser().analyse(text);
}

function parse(text: string, kind: "root" | "stages"): Parsed {
  const doc = parseDocument(text, { uniqueKeys: false });
  const errors = doc.errors.map((e) => ({
    span: { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) },
    message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
  }));
  const root = doc.contents as Node | null;
  const problems = kind === "root" ? validateRoot(root) : validateStages(root);
  return { doc, errors, problems };
}

function collect(model: PipelineModel, parsed: Parsed, base: number): void {
  const move = (p: Problem) => ({
    span: { start: p.span.start + base, end: p.span.end + base },
    message: p.message,
  });
  model.syntaxErrors.push(...parsed.errors.map(move));
  model.schemaProblems.push(...parsed.problems.map(move));
}

/**
 * The `stages:` block section cut into one chunk per stage, or undefined when the file has no
 * such section at column 0 (then the whole file is parsed at once).
 */
export function stagesSection(
  text: string,
): { start: number; end: number; chunks: { start: number; end: number }[] } | undefined {
  const header = /^stages:[ \t]*(#.*)?$/m.exec(text);
  if (!header) {
    return undefined;
  }
  const start = text.indexOf("\n", header.index);
  if (start < 0) {
    return undefined;
  }
  const chunks: { start: number; end: number }[] = [];
  let indent = -1;
  let end = text.length;
  for (let at = start + 1; at < text.length;) {
    const next = text.indexOf("\n", at);
    const lineEnd = next < 0 ? text.length : next + 1;
    const line = text.slice(at, lineEnd);
    const body = line.trimStart();
    if (body === "" || body.startsWith("#")) {
      at = lineEnd;
      continue;
    }
    const lineIndent = line.length - body.length;
    if (lineIndent === 0) {
      end = at;
      break;
    }
    if (indent < 0) {
      indent = lineIndent;
    }
    if (lineIndent === indent) {
      if (body.startsWith("- ") || body.startsWith("{") || body.startsWith("[")) {
        return undefined;
      }
      if (chunks.length) {
        chunks[chunks.length - 1]!.end = at;
      }
      chunks.push({ start: at, end: text.length });
    }
    at = lineEnd;
  }
  if (chunks.length) {
    chunks[chunks.length - 1]!.end = end;
  }
  return { start: start + 1, end, chunks };
}

/** Reads the top level; offsets are those of the text `root` was parsed from. */
function readRoot(model: PipelineModel, root: Node | null, text: string, withStages: boolean) {
  if (!isMap(root)) {
    return;
  }
  for (const pair of root.items) {
    const key = keyText(pair);
    if (key === "stages" && withStages) {
      readStages(model, pair.value as Node | null, 0);
    } else if (key === "vars") {
      model.varsEntries = readVarsSection(pair.value as Node | null, 0);
    } else if (key === "models") {
      model.stageRefs = readStageRefs(pair.value as Node | null, text, 0);
    }
  }
}

/**
 * The top level was parsed with the stages section cut out: what lies after it (`models:`,
 * often, and `vars:` sometimes) moves back by the section's length.
 */
function moveRootSpans(model: PipelineModel, shift: (span: Span) => Span): void {
  for (const entry of model.varsEntries) {
    if (entry.kind === "file") {
      entry.span = shift(entry.span);
    }
    for (const v of entry.kind === "inline" ? entry.vars : []) {
      v.span = shift(v.span);
    }
  }
  for (const ref of model.stageRefs) {
    ref.span = shift(ref.span);
  }
}

function readStages(model: PipelineModel, node: Node | null, base: number): void {
  addStages(model, readStageMap(node, base));
}

function readStageMap(node: Node | null, base: number): StageInfo[] {
  if (!isMap(node)) {
    return [];
  }
  return node.items.map((pair) => readStage(pair, base)).filter((s) => s !== undefined);
}

function addStages(model: PipelineModel, stages: StageInfo[]): void {
  for (const stage of stages) {
    if (model.stagesByName.has(stage.name)) {
      model.schemaProblems.push({
        span: stage.keySpan,
        message: `stage '${stage.name}' is defined twice`,
      });
      continue;
    }
    model.stages.push(stage);
    model.stagesByName.set(stage.name, stage);
  }
}

/** A copy of a stage `delta` characters further on (its chunk moved, its text did not change). */
function moved(stage: StageInfo, delta: number): StageInfo {
  const at = (span: Span): Span => ({ start: span.start + delta, end: span.end + delta });
  const copy: StageInfo = {
    ...stage,
    keySpan: at(stage.keySpan),
    span: at(stage.span),
    base: stage.base + delta,
    fields: new Map([...stage.fields].map(([name, span]) => [name, at(span)])),
  };
  copy.deps = stage.deps.map((ref) => ({ ...ref, span: at(ref.span), stage: copy }));
  copy.outputs = stage.outputs.map((ref) => ({ ...ref, span: at(ref.span), stage: copy }));
  copy.params = stage.params.map((ref) => ({ ...ref, span: at(ref.span), stage: copy }));
  copy.paramFiles = stage.paramFiles.map((ref) => ({ ...ref, span: at(ref.span), stage: copy }));
  return copy;
}

/** A stage read from its `name: {…}` pair; `base` is the offset of the text it was parsed from. */
export function readStage(pair: Pair, base: number): StageInfo | undefined {
  const name = keyText(pair);
  if (name === undefined) {
    return undefined;
  }
  const keySpan = spanOf(pair.key, base);
  const value = pair.value as Node | null;
  const stageEnd = Math.max(keySpan.end, value?.range ? base + value.range[1] : keySpan.end);
  const stage: StageInfo = {
    name,
    keySpan,
    span: { start: keySpan.start, end: stageEnd },
    body: null,
    value,
    base,
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
      stage.fields.set(key, spanOf(item.key, base));
      fields.set(key, item.value as Node | null);
    }
  }
  const wdir = fields.get("wdir");
  if (isScalar(wdir) && typeof wdir.value === "string") {
    stage.wdir = normalise("", wdir.value) ?? "";
    if (stage.wdir === ".") {
      stage.wdir = "";
    }
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
        span: spanOf(target, stage.base),
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
        span: spanOf(item, stage.base),
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
        stage.paramFiles.push({ file, span: spanOf(pair.key, stage.base), stage });
        if (isSeq(pair.value)) {
          for (const key of pair.value.items) {
            if (isScalar(key) && (typeof key.value === "string" || typeof key.value === "number")) {
              stage.params.push({
                file,
                key: String(key.value),
                span: spanOf(key, stage.base),
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
