/**
 * Reads lathe.yaml (or dvc.yaml when there is no lathe.yaml) into a Pipeline. The YAML AST is
 * walked directly, not converted to plain values first, so every error names file:line:col.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import { LatheError } from "../errors";
import { resolveInside } from "../workspace";
import { expandStage, GENERATORS, type StageSource } from "./expand";
import { unreadDvcFiles } from "./dvcfiles";
import { readEnv } from "./fields";
import { cachedParse } from "./parsecache";
import {
  DVC_IGNORED_SECTIONS,
  ignoredWarning,
  LATER_SECTIONS,
  readTopMetrics,
  readTopPlots,
  type SectionWalker,
} from "./sections";
import { DEFAULT_PARAMS_FILE, depProblem, outputProblem, pipelineFiles } from "./reserved";
import {
  type ParamEntry,
  type PathEntry,
  type Pipeline,
  type Pos,
  type Stage,
  at,
  paramsUses,
} from "./spec";
import { TemplateError, type Vars } from "./template";
import { loadVars, type ReadFile } from "./vars";

export { DEFAULT_PARAMS_FILE };

/** The fields of a stage (schemas/lathe.schema.json lists the same; a test keeps them so). */
export const STAGE_FIELDS = [
  "cmd",
  "wdir",
  "deps",
  "params",
  "outs",
  "metrics",
  "plots",
  "env",
  "desc",
  "always_changed",
  "frozen",
  "meta",
];
/** The top-level fields of lathe.yaml; dvc.yaml may also hold DVC_IGNORED_SECTIONS. */
export const TOP_FIELDS = [
  "stages",
  "experiment",
  "vars",
  "metrics",
  "plots",
  // `models:` is read by registry/gates-parse.ts (#5); this walker only lets it through.
  "models",
  ...Object.keys(LATER_SECTIONS),
];
/** dvc stage fields Lathe does not support, with what to do instead. */
const UNSUPPORTED_STAGE_FIELDS: Record<string, string> = {
  vars: "stage-level 'vars' are not supported by Lathe; move them to the top-level 'vars'",
};
const OUT_OPTIONS = ["cache", "persist", "desc", "remote", "push"];
/** `https://…`, `s3://…`, `remote://…`: dvc reads and writes these, Lathe only workspace paths. */
const URL_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const URL_ADVICE = {
  deps: "Lathe reads workspace paths only (dvc import-url is not supported): download it into the workspace and list the file",
  outs: "Lathe writes workspace paths only (dvc external outputs are not supported): write the file inside the workspace",
};

/** The pipeline file of a workspace, or undefined when it has neither lathe.yaml nor dvc.yaml. */
export function pipelineFile(root: string): string | undefined {
  return ["lathe.yaml", "dvc.yaml"].find((name) => existsSync(join(root, name)));
}

/** Loads and checks the workspace's pipeline file (structure only; see dag.ts for the graph). */
export function loadPipeline(root: string): Pipeline {
  const file = pipelineFile(root);
  if (!file) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `No lathe.yaml (or dvc.yaml) in ${root}: write one with a 'stages:' section.`,
      { root },
    );
  }
  const abs = join(root, file);
  if (!statSync(abs).isFile()) {
    throw new LatheError(
      "LATHE_BAD_FILE",
      `${file}: is a folder, not a file; the pipeline is the file ${file} at the workspace root: move the folder away or rename it`,
      { file },
    );
  }
  // The parse depends on the file and on the vars files it reads (params.yaml by default).
  const pipeline = cachedParse(root, `pipeline:${file}`, [abs], (reads) => {
    const readFile = (path: string) => {
      const varsFile = resolveInside(root, path, "vars file");
      reads.read(varsFile);
      return existsSync(varsFile) ? readFileSync(varsFile, "utf8") : undefined;
    };
    return parsePipeline(file, readFileSync(abs, "utf8"), { readFile });
  });
  if (file !== "dvc.yaml") {
    return pipeline;
  }
  // Outside the cache: dvc.lock and nested dvc.yaml files come and go without the parse changing.
  return { ...pipeline, warnings: [...pipeline.warnings, ...unreadDvcFiles(root)] };
}

export interface ParseOptions {
  /**
   * Reads params.yaml and `vars` files (workspace-relative) for `${…}`; undefined for a missing
   * file. Without it, only inline `vars` are known.
   */
  readFile?: ReadFile;
}

/** Parses the text of a pipeline file; `file` is its workspace-relative name for messages. */
export function parsePipeline(file: string, text: string, options: ParseOptions = {}): Pipeline {
  return parsePipelineVars(file, text, options).pipeline;
}

/**
 * parsePipeline, also giving the vars `${…}` read. The language server parses a large file in
 * pieces with the same rules: the text around `stages:` here, then each stage with parseStages,
 * then checkStageNames over them all.
 */
export function parsePipelineVars(
  file: string,
  text: string,
  options: ParseOptions = {},
): { pipeline: Pipeline; vars: Vars } {
  const { doc, lines } = readYaml(file, text);
  return new Walker(file, lines, text, options).pipeline(doc.contents);
}

/** The stages of a text holding entries of `stages:` (a mapping of names to stages). */
export function parseStages(file: string, text: string, vars: Vars): Stage[] {
  const { doc, lines } = readYaml(file, text);
  const walker: Walker = new Walker(file, lines, text, {});
  if (!isMap(doc.contents)) {
    walker.fail(doc.contents, "'stages' must be a mapping of stage names to stages");
  }
  return walker.stages(doc.contents, vars);
}

/** Generated names must not collide with each other or with a written stage. */
export function checkStageNames(file: string, stages: Stage[]): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    if (seen.has(stage.name)) {
      throw new LatheError(
        "LATHE_BAD_FILE",
        `${at(file, stage.pos)}two stages are named '${stage.name}'; foreach keys and matrix values must be unique`,
        { file, stage: stage.name, ...stage.pos },
      );
    }
    seen.add(stage.name);
  }
}

/**
 * Outputs that would delete the workspace, `.lathe/`, `.git/` or the pipeline's own files (repro
 * deletes outputs before a stage runs), and deps whose id would cover `.lathe/` (reserved.ts).
 * `varsFiles` are the vars files the pipeline read, which are its own files too.
 */
export function checkStagePaths(file: string, stages: Stage[], varsFiles: string[]): void {
  const files = pipelineFiles(paramsUses(file, stages), varsFiles);
  const fail = (pos: Stage["pos"], message: string): never => {
    throw new LatheError("LATHE_BAD_FILE", `${at(file, pos)}${message}`, { file, ...pos });
  };
  for (const stage of stages) {
    const where = `stage '${stage.name}': `;
    for (const dep of stage.deps) {
      const problem = depProblem(dep.wsPath);
      if (problem) {
        fail(dep.pos, `${where}'deps' path '${dep.path}' ${problem}`);
      }
    }
    const outputs = { outs: stage.outs, metrics: stage.metrics, plots: stage.plots };
    for (const [field, entries] of Object.entries(outputs)) {
      for (const out of entries) {
        const problem = outputProblem(out.wsPath, files);
        if (problem) {
          fail(out.pos, `${where}'${field}' path '${out.path}' ${problem}`);
        }
      }
    }
  }
}

function readYaml(file: string, text: string) {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? { line: 1, col: 1 };
    const reason = first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new LatheError("LATHE_BAD_FILE", `${at(file, pos)}not valid YAML: ${reason}`, {
      file,
      ...pos,
    });
  }
  return { doc, lines };
}

class Walker implements SectionWalker {
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    private readonly source: string,
    private readonly options: ParseOptions,
  ) {}

  pipeline(root: Node | null): { pipeline: Pipeline; vars: Vars } {
    if (!isMap(root)) {
      this.fail(root, "the file must be a mapping with a 'stages:' section");
    }
    const allowed =
      this.file === "dvc.yaml" ? [...TOP_FIELDS, ...DVC_IGNORED_SECTIONS] : TOP_FIELDS;
    let experiment: string | null = null;
    let stagesNode: Node | null = null;
    let varsNode: Node | null | undefined;
    let metrics: PathEntry[] = [];
    let plots: Pipeline["plots"] = [];
    for (const pair of root.items) {
      const key = this.keyOf(pair, "");
      if (!allowed.includes(key)) {
        this.fail(pair.key, `unknown top-level field '${key}'; valid: ${allowed.join(", ")}`);
      }
      if (key === "experiment") {
        experiment = this.string(pair.value as Node | null, "", "'experiment' must be a string");
      } else if (key === "stages") {
        stagesNode = pair.value as Node | null;
      } else if (key === "vars") {
        varsNode = pair.value as Node | null;
      } else if (key === "metrics") {
        metrics = readTopMetrics(this, pair.value as Node | null);
      } else if (key === "plots") {
        plots = readTopPlots(this, pair.value as Node | null);
      } else if (key in LATER_SECTIONS || DVC_IGNORED_SECTIONS.includes(key)) {
        this.warnings.push(ignoredWarning(this, key, pair.key as Node));
      }
    }
    if (!isMap(stagesNode)) {
      this.fail(stagesNode ?? root, "'stages' must be a mapping of stage names to stages");
    }
    const fail = (node: unknown, message: string) => this.fail(node, message);
    const varsFiles: string[] = [];
    const readVarsFile = (path: string) => {
      varsFiles.push(posix.normalize(path.replace(/\\/g, "/")));
      return this.options.readFile?.(path);
    };
    const vars = loadVars(varsNode, DEFAULT_PARAMS_FILE, readVarsFile, fail);
    const stages = this.stages(stagesNode, vars);
    checkStageNames(this.file, stages);
    checkStagePaths(this.file, stages, varsFiles);
    const { file, warnings } = this;
    return { pipeline: { file, experiment, stages, metrics, plots, warnings }, vars };
  }

  stages(node: YAMLMap, vars: Vars): Stage[] {
    return node.items.flatMap((pair) => this.expand(pair, vars).map((s) => this.stage(s)));
  }

  /** The stages one entry stands for (several with foreach or matrix), `${…}` substituted. */
  private expand(pair: Pair, vars: Vars): StageSource[] {
    const name = this.keyOf(pair, "");
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
      this.fail(pair.key, `stage name '${name}' may hold only letters, digits, '_', '.' and '-'`);
    }
    this.refuseUnsupported(pair.value as Node | null, `stage '${name}': `);
    const fail = (node: unknown, message: string) => this.fail(node, message);
    try {
      return expandStage(pair, name, vars, this.source, fail);
    } catch (err) {
      if (err instanceof TemplateError) {
        this.fail(err.node, `stage '${name}': ${err.message}`, err.offset);
      }
      throw err;
    }
  }

  /**
   * dvc fields Lathe refuses, checked before `${…}` is substituted: stage-level `vars` would
   * otherwise surface as "unknown variable" from the templating, not as what is unsupported.
   * A foreach stage's `do` body is checked as well.
   */
  private refuseUnsupported(node: Node | null, where: string): void {
    if (!isMap(node)) {
      return;
    }
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      const unsupported = UNSUPPORTED_STAGE_FIELDS[key];
      if (unsupported) {
        this.fail(pair.key, `${where}${unsupported}`);
      }
      if (key === "do") {
        this.refuseUnsupported(pair.value as Node | null, where);
      }
    }
  }

  private stage({ name, body: node, keyNode, group }: StageSource): Stage {
    const where = `stage '${name}': `;
    if (!isMap(node)) {
      this.fail(node ?? keyNode, `${where}a stage must be a mapping with at least 'cmd'`);
    }
    const fields = this.fields(node, where);
    if (!fields.has("cmd")) {
      this.fail(keyNode, `${where}'cmd' is missing`);
    }
    const wdir = this.wdir(fields.get("wdir"), where);
    return {
      name,
      cmd: this.cmd(fields.get("cmd")!, where),
      wdir,
      deps: this.paths(fields.get("deps"), "deps", wdir, where),
      params: this.params(fields.get("params"), wdir, where),
      outs: this.paths(fields.get("outs"), "outs", wdir, where),
      metrics: this.paths(fields.get("metrics"), "metrics", wdir, where),
      plots: this.paths(fields.get("plots"), "plots", wdir, where),
      env: readEnv(this, fields.get("env"), where),
      desc: fields.has("desc")
        ? this.string(fields.get("desc")!, where, "'desc' must be a string")
        : null,
      alwaysChanged: this.bool(fields.get("always_changed"), where, "always_changed"),
      frozen: this.bool(fields.get("frozen"), where, "frozen"),
      group,
      pos: this.pos(keyNode),
    };
  }

  /** The stage's fields by name; unknown names are an error that lists the valid ones. */
  private fields(node: YAMLMap, where: string): Map<string, Node | null> {
    const fields = new Map<string, Node | null>();
    for (const pair of node.items) {
      const key = this.keyOf(pair, where);
      const unsupported = UNSUPPORTED_STAGE_FIELDS[key];
      if (unsupported) {
        this.fail(pair.key, `${where}${unsupported}`);
      }
      if (GENERATORS.includes(key)) {
        this.fail(pair.key, `${where}'${key}' is allowed only directly under a stage's name`);
      }
      if (!STAGE_FIELDS.includes(key)) {
        this.fail(pair.key, `${where}unknown field '${key}'; valid: ${STAGE_FIELDS.join(", ")}`);
      }
      fields.set(key, pair.value as Node | null);
    }
    return fields;
  }

  private cmd(node: Node | null, where: string): string {
    // Text only, as the schema says: `cmd: 3` is a mistake, not the command "3".
    const text = (item: Node | null): string => {
      if (!isScalar(item) || typeof item.value !== "string") {
        this.fail(item, `${where}'cmd' must be a string or a list of strings`);
      }
      return item.value;
    };
    if (isSeq(node) && node.items.length > 0) {
      return node.items.map((item) => text(item as Node)).join(" && ");
    }
    const cmd = text(node);
    if (cmd.trim() === "") {
      this.fail(node, `${where}'cmd' is empty`);
    }
    return cmd;
  }

  private wdir(node: Node | null | undefined, where: string): string {
    if (node === undefined) {
      return "";
    }
    const raw = this.string(node, where, "'wdir' must be a string");
    const rel = this.inside(raw, "", node, where, "wdir");
    return rel === "." ? "" : rel;
  }

  private paths(node: Node | null | undefined, field: string, wdir: string, where: string) {
    if (node === undefined || (isScalar(node) && node.value === null)) {
      return [];
    }
    if (!isSeq(node)) {
      this.fail(node, `${where}'${field}' must be a list of paths`);
    }
    return node.items.map((item) => this.pathEntry(item as Node, field, wdir, where));
  }

  /** A path is a string, or `{path: {cache: false}}` (dvc's object form). */
  pathEntry(node: Node, field: string, wdir: string, where: string): PathEntry {
    const shape =
      field === "deps"
        ? `${where}each entry of 'deps' must be a path`
        : `${where}each entry of '${field}' must be a path or {path: {cache: false}}`;
    let path: string;
    let options = { cache: true, persist: false };
    if (field === "deps" && isMap(node)) {
      // As in dvc.yaml, a dep is a path: the options (cache, persist…) are those of outputs.
      const first = node.items[0]?.key;
      const instead = isScalar(first) ? `: write '- ${String(first.value)}'` : "";
      this.fail(
        node,
        `${where}a dep is a path and takes no options (${OUT_OPTIONS.join(", ")} are options of outs, metrics and plots)${instead}`,
      );
    }
    if (isMap(node)) {
      if (node.items.length !== 1) {
        this.fail(node, shape);
      }
      const pair = node.items[0]!;
      path = this.keyOf(pair, where);
      options = this.outOptions(pair.value as Node | null, field, where);
    } else {
      path = this.string(node, where, shape);
    }
    if (URL_PATTERN.test(path)) {
      this.fail(
        node,
        `${where}'${field}' entry '${path}' is a URL; ${URL_ADVICE[field === "deps" ? "deps" : "outs"]}`,
      );
    }
    const wsPath = this.inside(path, wdir, node, where, field);
    return { path, wsPath, ...options, pos: this.pos(node) };
  }

  /** `cache` and `persist`; plots may carry display options, which are kept by the editor. */
  private outOptions(node: Node | null, field: string, where: string) {
    const options = { cache: true, persist: false };
    if (node === null || (isScalar(node) && node.value === null)) {
      return options;
    }
    if (!isMap(node)) {
      this.fail(node, `${where}the options of an entry of '${field}' must be a mapping`);
    }
    for (const pair of node.items) {
      const key = this.keyOf(pair, where);
      if (field !== "plots" && !OUT_OPTIONS.includes(key)) {
        this.fail(
          pair.key,
          `${where}unknown option '${key}' in '${field}'; valid: ${OUT_OPTIONS.join(", ")}`,
        );
      }
      if (key === "cache" || key === "persist") {
        options[key] = this.bool(pair.value as Node | null, where, key);
      }
    }
    return options;
  }

  /** `params: [a.b, {other.yaml: [c, d]}]`. */
  private params(node: Node | null | undefined, wdir: string, where: string): ParamEntry[] {
    if (node === undefined || (isScalar(node) && node.value === null)) {
      return [];
    }
    if (!isSeq(node)) {
      this.fail(node, `${where}'params' must be a list of keys or {file.yaml: [keys]}`);
    }
    const defaultFile = posix.join(wdir, DEFAULT_PARAMS_FILE);
    return node.items.flatMap((item) => this.paramItem(item as Node, wdir, defaultFile, where));
  }

  private paramItem(node: Node, wdir: string, defaultFile: string, where: string): ParamEntry[] {
    const shape = `${where}each entry of 'params' must be a key or {file.yaml: [keys]}`;
    if (!isMap(node)) {
      const key = this.string(node, where, shape);
      return [{ file: defaultFile, key, pos: this.pos(node) }];
    }
    return node.items.flatMap((pair) => {
      const file = this.inside(this.keyOf(pair, where), wdir, pair.key as Node, where, "params");
      if (/\.(py|toml)$/i.test(file)) {
        this.fail(
          pair.key,
          `${where}params file '${file}' is not supported: params files must be YAML or JSON`,
        );
      }
      const keys = pair.value as Node | null;
      const isWholeFile = keys === null || (isScalar(keys) && keys.value === null);
      if (isWholeFile || (isSeq(keys) && keys.items.length === 0)) {
        // dvc tracks every key of the file for `file:` and `file: []`; Lathe records params by key.
        this.fail(
          pair.key,
          `${where}tracking a whole params file is not supported; list its keys: {${file}: [key, …]}`,
        );
      }
      if (!isSeq(keys)) {
        this.fail(keys ?? pair.key, `${where}params of ${file} must be a list of keys`);
      }
      return keys.items.map((k) => ({
        file,
        key: this.string(k as Node, where, shape),
        pos: this.pos(k as Node),
      }));
    });
  }

  /** Joins `path` to `wdir` and refuses a result outside the workspace. */
  private inside(
    path: string,
    wdir: string,
    node: Node | null,
    where: string,
    field: string,
  ): string {
    const rel = posix.normalize(posix.join(wdir, path.replace(/\\/g, "/")));
    if (posix.isAbsolute(path) || rel === ".." || rel.startsWith("../")) {
      this.fail(node, `${where}'${field}' path '${path}' is outside the workspace`);
    }
    return rel.replace(/\/+$/, "");
  }

  keyOf(pair: Pair, where: string): string {
    const key = pair.key as Node | null;
    if (!isScalar(key) || typeof key.value !== "string") {
      this.fail(key, `${where}keys must be strings`);
    }
    return key.value;
  }

  private string(node: Node | null, where: string, message: string): string {
    if (!isScalar(node) || (typeof node.value !== "string" && typeof node.value !== "number")) {
      this.fail(node, message.startsWith(where) ? message : `${where}${message}`);
    }
    return String(node.value);
  }

  private bool(node: Node | null | undefined, where: string, field: string): boolean {
    if (node === undefined) {
      return false;
    }
    if (!isScalar(node) || typeof node.value !== "boolean") {
      this.fail(node, `${where}'${field}' must be true or false`);
    }
    return node.value;
  }

  pos(node: Node | Pos | null | undefined, offset = 0): Pos {
    if (node && "line" in node) {
      return node;
    }
    return this.lines.linePos((node?.range?.[0] ?? 0) + offset);
  }

  fail(node: unknown, message: string, offset = 0): never {
    const pos = this.pos(node as Node | null, offset);
    throw new LatheError("LATHE_BAD_FILE", `${at(this.file, pos)}${message}`, {
      file: this.file,
      ...pos,
    });
  }
}
