/**
 * What `lathe repro` would refuse, found by the engine's own code (daemon/src/pipeline: parse,
 * expand, templating, the DAG, the deps and wdir checks, lathe.lock's shape), so that the editor
 * and the CLI keep one set of rules. Each LatheError's `file:line:col` becomes a span of the text
 * at fault; an error without a place in the pipeline file (a malformed lathe.lock entry) goes on
 * its stage's name.
 *
 * Speed: one `yaml` parse of a 500-stage file costs more than a keystroke may, so the engine
 * parses the file in the pieces the analysis cuts it into: the text around `stages:` (vars,
 * experiment…) once, then each stage on its own, cached by its text and the vars it was expanded
 * with. An edit re-parses the edited stage; the checks across stages (names, outputs, cycles,
 * deps) run on the parsed stages, which costs little.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { LatheError } from "../../../daemon/src/errors";
import { buildDag, stageFileProblems } from "../../../daemon/src/pipeline/dag";
import { LOCK_FILE, parseLock } from "../../../daemon/src/pipeline/lock";
import {
  checkStageNames,
  checkStagePaths,
  parsePipelineVars,
  parseStages,
} from "../../../daemon/src/pipeline/parse";
import type { Pipeline, Pos, Stage } from "../../../daemon/src/pipeline/spec";
import type { Vars } from "../../../daemon/src/pipeline/template";
import { resolveInside } from "../../../daemon/src/workspace";
import { stagesSection, type Span } from "./analysis";
import type { DocContext } from "./context";
import { varsFiles } from "./varsSection";

export interface EngineProblem {
  span: Span;
  /** The engine's message without its `file:line:col: ` prefix (the span says where). */
  message: string;
  /**
   * Problems with the same key say the same thing: the stages a foreach generates share their
   * text, and one missing dep written there is one problem, not one per generated stage.
   */
  key: string;
}

export interface EngineResult {
  problems: EngineProblem[];
  /** The pipeline as the engine reads it, when every piece parsed. */
  pipeline: Pipeline | undefined;
  /** Workspace files the result read (vars files, lathe.lock). */
  reads: string[];
}

interface Top {
  text: string;
  /** Absolute path → stat stamp of every file the parse read (undefined: missing). */
  stamps: Map<string, string | undefined>;
  result: { pipeline: Pipeline; vars: Vars; varsKey: string } | LatheError;
}

type Piece = Stage[] | LatheError;

interface CachedPiece {
  varsKey: string;
  result: Piece;
  /** The stages moved to where the piece was last found in the document. */
  placed?: { lines: number; stages: Stage[] };
}

/** One per document: the pieces it parsed last time. */
export class EngineChecker {
  private top: Top | undefined;
  private pieces = new Map<string, CachedPiece>();
  private lock: { stamp: string; result: LatheError | undefined } | undefined;
  /** The result of the last check, for the files the server watches. */
  last: EngineResult | undefined;

  /** @param onBug told of an error that is not a LatheError (a bug in the checks). */
  constructor(private readonly onBug: (err: unknown) => void) {}

  /**
   * The engine's verdict on the document. `checkFiles` adds the checks against the disk (deps and
   * wdirs that do not exist, lathe.lock); vars files are read in any case, as `${…}` needs them.
   */
  check(ctx: DocContext, checkFiles: boolean): EngineResult {
    const result: EngineResult = { problems: [], pipeline: undefined, reads: [] };
    this.last = result;
    try {
      this.checkInto(ctx, checkFiles, result);
    } catch (err) {
      // A bug, not a problem of the file: the analysis's diagnostics are still worth showing.
      this.onBug(err);
    }
    return result;
  }

  private checkInto(ctx: DocContext, checkFiles: boolean, result: EngineResult): void {
    const root = ctx.files?.root;
    if (root === undefined || ctx.model.syntaxErrors.length > 0) {
      return; // Nothing to read vars from; or the analysis reports the syntax already.
    }
    const file = decodeURIComponent(ctx.document.uri.slice(ctx.document.uri.lastIndexOf("/") + 1));
    const report = (err: unknown, lineShift = 0) => {
      if (!(err instanceof LatheError)) {
        throw err;
      }
      result.problems.push(this.place(ctx, file, err, lineShift));
    };
    const pipeline = this.parse(ctx, file, root, result, report);
    if (!pipeline) {
      return;
    }
    result.pipeline = pipeline;
    try {
      checkStageNames(file, pipeline.stages);
      checkStagePaths(file, pipeline.stages, varsFiles(ctx.model.varsEntries));
      const dag = buildDag(pipeline);
      // FIXME(#4): the engine's params check (ParamsReader) should run here too, so that a params
      // file that is not valid YAML is reported as `lathe repro` reports it; it reads through the
      // parse cache, which writes .lathe/parsed/, so it needs a reader passed in first. Until then
      // the analysis's own check (diagnostics.ts) reports missing params files and keys.
      if (checkFiles) {
        const exists = (wsPath: string) => ctx.files!.exists(wsPath);
        for (const stage of dag.order) {
          stageFileProblems(dag, stage, exists).forEach((err) => report(err));
        }
        result.reads.push(LOCK_FILE);
        const lock = this.checkLock(root);
        if (lock) {
          report(lock);
        }
      }
    } catch (err) {
      report(err);
    }
  }

  /** The whole pipeline, parsed in pieces; undefined (and the problems reported) when it fails. */
  private parse(
    ctx: DocContext,
    file: string,
    root: string,
    result: EngineResult,
    report: (err: unknown, lineShift?: number) => void,
  ): Pipeline | undefined {
    const text = ctx.model.text;
    const section = stagesSection(text);
    const top = this.topOf(file, root, section ? aroundStages(text, section) : text);
    result.reads.push(...[...top.stamps.keys()].map((abs) => abs.slice(root.length + 1)));
    if (top.result instanceof LatheError) {
      report(top.result);
      return undefined;
    }
    if (!section) {
      return top.result.pipeline;
    }
    const { vars, varsKey } = top.result;
    const previous = this.pieces;
    this.pieces = new Map();
    const stages: Stage[] = [];
    let failed = false;
    for (const chunk of section.chunks) {
      const chunkText = text.slice(chunk.start, chunk.end);
      let piece = previous.get(chunkText) ?? this.pieces.get(chunkText);
      if (piece?.varsKey !== varsKey) {
        piece = { varsKey, result: parsePiece(file, chunkText, vars) };
      }
      this.pieces.set(chunkText, piece);
      const lines = ctx.document.positionAt(chunk.start).line;
      if (piece.result instanceof LatheError) {
        report(piece.result, lines);
        failed = true;
      } else {
        if (piece.placed?.lines !== lines) {
          piece.placed = { lines, stages: piece.result.map((stage) => shifted(stage, lines)) };
        }
        stages.push(...piece.placed.stages);
      }
    }
    return failed ? undefined : { ...top.result.pipeline, stages };
  }

  /** The text around `stages:` parsed (with no stages), cached while it and its reads stay. */
  private topOf(file: string, root: string, text: string): Top {
    const cached = this.top;
    if (cached?.text === text && [...cached.stamps].every(([abs, was]) => stampOf(abs) === was)) {
      return cached;
    }
    const stamps = new Map<string, string | undefined>();
    const readFile = (path: string) => {
      const abs = resolveInside(root, path, "vars file");
      const stamp = stampOf(abs);
      stamps.set(abs, stamp);
      return stamp === undefined ? undefined : readFileSync(abs, "utf8");
    };
    let result: Top["result"];
    try {
      const { pipeline, vars } = parsePipelineVars(file, text, { readFile });
      result = { pipeline, vars, varsKey: JSON.stringify(vars) };
    } catch (err) {
      if (!(err instanceof LatheError)) {
        throw err;
      }
      result = err;
    }
    this.top = { text, stamps, result };
    return this.top;
  }

  private checkLock(root: string): LatheError | undefined {
    const abs = join(root, LOCK_FILE);
    const stamp = stampOf(abs);
    if (stamp === undefined) {
      this.lock = undefined;
      return undefined;
    }
    if (this.lock?.stamp !== stamp) {
      let error: LatheError | undefined;
      try {
        parseLock(readFileSync(abs, "utf8"));
      } catch (err) {
        if (!(err instanceof LatheError)) {
          throw err;
        }
        error = err;
      }
      this.lock = { stamp, result: error };
    }
    return this.lock.result;
  }

  /** Where in the document an engine error belongs, and its message for there. */
  private place(ctx: DocContext, file: string, err: LatheError, lineShift: number): EngineProblem {
    const text = ctx.model.text;
    const prefix = new RegExp(`^${escapeRegExp(file)}:(\\d+):(\\d+): `).exec(err.message);
    if (prefix) {
      const line = lineShift + Number(prefix[1]) - 1;
      const start = ctx.document.offsetAt({ line, character: Number(prefix[2]) - 1 });
      const message = err.message.slice(prefix[0].length);
      const path = typeof err.data.path === "string" ? err.data.path : message;
      return { span: tokenSpan(text, start), message, key: `${start}:${path}` };
    }
    // No place in this file (lathe.lock's entry for a stage): the stage's name, else `stages:`.
    const stage = typeof err.data.stage === "string" ? err.data.stage.split("@")[0]! : "";
    const key = ctx.model.stagesByName.get(stage)?.keySpan;
    const header = /^stages:/m.exec(text);
    const span = key ?? (header ? { start: header.index, end: header.index + 6 } : undefined);
    return { span: span ?? { start: 0, end: 0 }, message: err.message, key: err.message };
  }
}

function parsePiece(file: string, text: string, vars: Vars): Piece {
  try {
    return parseStages(file, text, vars);
  } catch (err) {
    if (err instanceof LatheError) {
      return err;
    }
    throw err;
  }
}

/**
 * The document with its stages left out but every line where it was: `stages:` becomes
 * `stages: {}` and the stages' lines are emptied, so positions after them do not move.
 */
function aroundStages(text: string, section: { start: number; end: number }): string {
  const header = text.lastIndexOf("\n", section.start - 2) + 1;
  let lines = 0;
  for (
    let i = text.indexOf("\n", section.start);
    i >= 0 && i < section.end;
    i = text.indexOf("\n", i + 1)
  ) {
    lines++;
  }
  return `${text.slice(0, header)}stages: {}\n${"\n".repeat(lines)}${text.slice(section.end)}`;
}

/** A stage parsed from a piece that starts `lines` lines into the document. */
function shifted(stage: Stage, lines: number): Stage {
  if (lines === 0) {
    return stage;
  }
  const pos = (p: Pos): Pos => ({ line: p.line + lines, col: p.col });
  const paths = (list: Stage["deps"]) => list.map((e) => ({ ...e, pos: pos(e.pos) }));
  return {
    ...stage,
    pos: pos(stage.pos),
    deps: paths(stage.deps),
    outs: paths(stage.outs),
    metrics: paths(stage.metrics),
    plots: paths(stage.plots),
    params: stage.params.map((p) => ({ ...p, pos: pos(p.pos) })),
  };
}

function stampOf(abs: string): string | undefined {
  const st = statSync(abs, { throwIfNoEntry: false });
  return st?.isFile() ? `${st.mtimeMs}:${st.size}:${st.ino}` : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The text a position of the engine points at: a `${…}`, a quoted string, a flow collection, or
 * a plain scalar up to where YAML ends it (a key's `:`, a comment, a flow `,`).
 */
export function tokenSpan(text: string, start: number): Span {
  const lineEnd = endOfLine(text, start);
  if (text.startsWith("${", start)) {
    const close = text.indexOf("}", start);
    return { start, end: close < 0 || close > lineEnd ? lineEnd : close + 1 };
  }
  const ch = text[start];
  if (ch === '"' || ch === "'") {
    return { start, end: closingQuote(text, start) };
  }
  if (ch === "{" || ch === "[") {
    return { start, end: closingBracket(text, start) };
  }
  const flow = inFlow(text, start);
  let end = start;
  for (; end < lineEnd; end++) {
    const c = text[end]!;
    const next = text[end + 1] ?? "\n";
    if (c === "#" && end > start && /\s/.test(text[end - 1]!)) {
      break;
    }
    if (c === ":" && (/\s/.test(next) || (flow && ",]}".includes(next)))) {
      break;
    }
    if (flow && ",]}".includes(c)) {
      break;
    }
  }
  while (end > start && /\s/.test(text[end - 1]!)) {
    end--;
  }
  return { start, end: end > start ? end : Math.min(start + 1, lineEnd) };
}

function endOfLine(text: string, from: number): number {
  const match = /\r?\n/.exec(text.slice(from));
  return match ? from + match.index : text.length;
}

function closingQuote(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
    } else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") {
        i++;
      } else {
        return i + 1;
      }
    }
  }
  return endOfLine(text, start);
}

function closingBracket(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      i = closingQuote(text, i) - 1;
    } else if (c === "{" || c === "[") {
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) {
        return i + 1;
      }
    }
  }
  return endOfLine(text, start);
}

/** True when `offset` lies inside a `[…]` or `{…}` opened earlier on its line. */
function inFlow(text: string, offset: number): boolean {
  let depth = 0;
  for (let i = text.lastIndexOf("\n", offset - 1) + 1; i < offset; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      i = closingQuote(text, i) - 1;
    } else if (c === "{" || c === "[") {
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
    }
  }
  return depth > 0;
}
