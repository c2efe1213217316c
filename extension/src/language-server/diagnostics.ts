/**
 * Every problem in a pipeline document, with the exact range of the text at fault: YAML syntax,
 * schema (unknown field, wrong type), unknown params keys and missing params files, deps that
 * neither exist nor are produced, outputs that overlap, cycles, and a command that reads another
 * stage's output without listing it in deps; paths `lathe repro` refuses as written (outside the
 * workspace, outputs that would delete the workspace, `.lathe/`, `.git/` or the pipeline's own
 * files: the daemon's pipeline/reserved.ts, bundled here); and a `models:` entry that
 * `lathe repro` would refuse (modelsCheck.ts: unknown stages, outputs, gate conditions, aliases).
 * Then whatever else the engine itself refuses (engineCheck.ts: unknown `${…}`, generated stages
 * that collide, a malformed lathe.lock…), where no error is reported already.
 */
import { posix } from "node:path";
import { isScalar, isMap, type Node } from "yaml";
import { DiagnosticSeverity, type Diagnostic } from "vscode-languageserver";
import { keyText, normalise, spanOf, type Span, type StageInfo } from "./analysis";
import { rangeOf, type DocContext } from "./context";
import { missingDepReason } from "../../../daemon/src/pipeline/dag";
import type { EngineChecker } from "./engineCheck";
import { checkModels } from "./modelsCheck";
import {
  depProblem,
  outputProblem,
  pipelineFiles,
  type ParamsUse,
} from "../../../daemon/src/pipeline/reserved";
import { varsFiles } from "./varsSection";

export const SOURCE = "lathe";

/** Diagnostic codes; quick fixes key on them. */
export const Code = {
  syntax: "yaml-syntax",
  schema: "schema",
  unknownParam: "unknown-param",
  missingParamsFile: "missing-params-file",
  missingDep: "missing-dep",
  overlappingOuts: "overlapping-outs",
  cycle: "cycle",
  undeclaredDep: "undeclared-dep",
  unusedParamsFile: "unused-params-file",
  modelEntry: "model-entry",
  forbiddenPath: "forbidden-path",
  /** Refused by `lathe repro` (the engine's own check), with its message. */
  repro: "repro",
} as const;

export interface DiagnoseOptions {
  /** Check deps and params against the files on disk. */
  checkFiles: boolean;
}

export function diagnose(
  ctx: DocContext,
  options: DiagnoseOptions,
  engine?: EngineChecker,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const errors: Span[] = [];
  const add: Add = (span, message, code, severity = DiagnosticSeverity.Error, data) => {
    if (severity === DiagnosticSeverity.Error) {
      errors.push(span);
    }
    out.push({
      range: rangeOf(ctx.document, span),
      message,
      code,
      severity,
      source: SOURCE,
      data,
    });
  };

  for (const e of ctx.model.syntaxErrors) {
    add(e.span, `not valid YAML: ${e.message}`, Code.syntax);
  }
  for (const p of ctx.model.schemaProblems) {
    add(p.span, p.message, Code.schema);
  }
  if (options.checkFiles && ctx.files) {
    checkParams(ctx, add);
    checkDeps(ctx, add);
  }
  for (const [a, b] of ctx.index.overlapping()) {
    const what = a.wsPath === b.wsPath ? "the same path as" : "a path overlapping";
    const name = (s: StageInfo) => `stage '${s.name}'`;
    add(
      a.span,
      `${name(a.stage)} writes ${what} ${name(b.stage)} ('${b.path}')`,
      Code.overlappingOuts,
    );
    add(
      b.span,
      `${name(b.stage)} writes ${what} ${name(a.stage)} ('${a.path}')`,
      Code.overlappingOuts,
    );
  }
  for (const cycle of ctx.index.cycles()) {
    const text = cycle.map((s) => s.name).join(" -> ");
    for (const stage of new Set(cycle)) {
      add(stage.keySpan, `the stages form a cycle: ${text}`, Code.cycle);
    }
  }
  checkPaths(ctx, add);
  checkCommands(ctx, add);
  for (const p of checkModels(ctx)) {
    add(p.span, p.message, Code.modelEntry);
  }
  // The engine stops at its first error in a stage; where an error is shown already, the
  // engine's is not added.
  const shown = [...errors];
  const keys = new Set<string>();
  const checkFiles = options.checkFiles && ctx.files !== undefined;
  for (const p of engine?.check(ctx, checkFiles).problems ?? []) {
    const at = p.span.start;
    const covered = shown.some((s) => s.start <= at && (at < s.end || at === s.start));
    if (!covered && !keys.has(p.key)) {
      keys.add(p.key);
      add(p.span, p.message, Code.repro);
    }
  }
  return out;
}

type Add = (
  span: Span,
  message: string,
  code: string,
  severity?: DiagnosticSeverity,
  data?: unknown,
) => void;

function checkParams(ctx: DocContext, add: Add): void {
  for (const stage of ctx.model.stages) {
    const reported = new Set<string>();
    for (const ref of stage.paramFiles) {
      if (!ref.file.includes("${") && !ctx.files!.paramsFile(ref.file)) {
        add(ref.span, `params file ${ref.file} does not exist`, Code.missingParamsFile);
        reported.add(ref.file);
      } else if (!stage.params.some((p) => p.file === ref.file)) {
        // dvc reads a file named with no keys as "the whole file"; lathe repro refuses that.
        add(
          ref.span,
          `stage '${stage.name}': tracking a whole params file is not supported; list its keys: {${ref.file}: [key, …]}`,
          Code.unusedParamsFile,
        );
      }
    }
    for (const param of stage.params) {
      if (param.key.includes("${") || reported.has(param.file)) {
        continue;
      }
      const file = ctx.files!.paramsFile(param.file);
      if (!file) {
        add(
          param.span,
          `params file ${param.file} does not exist (needed for '${param.key}')`,
          Code.missingParamsFile,
        );
      } else if (!file.keys.has(param.key)) {
        add(
          param.span,
          `param '${param.key}' is not in ${param.file}`,
          Code.unknownParam,
          DiagnosticSeverity.Error,
          {
            file: param.file,
            key: param.key,
          },
        );
      }
    }
  }
}

function checkDeps(ctx: DocContext, add: Add): void {
  for (const stage of ctx.model.stages) {
    for (const dep of stage.deps) {
      if (dep.wsPath === undefined || ctx.index.producers(dep.wsPath).length > 0) {
        continue;
      }
      // The engine's rule and words (a pointer alone, `.lathe` or dvc's `.dvc`, is not the data).
      const reason = missingDepReason(stage.name, dep.wsPath, (p) => ctx.files!.exists(p));
      if (reason) {
        add(dep.span, reason.message, Code.missingDep);
      }
    }
  }
}

/** The parser's checks of written paths, with its messages (less the `file:line:col: ` prefix). */
function checkPaths(ctx: DocContext, add: Add): void {
  const file = posix.basename(ctx.document.uri);
  const uses: ParamsUse[] = ctx.model.stages.flatMap((stage) =>
    stage.params.map((p) => {
      const { line, character } = ctx.document.positionAt(p.span.start);
      return { stage: stage.name, file: p.file, at: `${file}:${line + 1}:${character + 1}` };
    }),
  );
  const files = pipelineFiles(uses, varsFiles(ctx.model.varsEntries));
  for (const stage of ctx.model.stages) {
    for (const ref of [...stage.deps, ...stage.outputs]) {
      if (ref.path.includes("${")) {
        continue; // Known only once the stage is generated.
      }
      const problem =
        ref.wsPath === undefined
          ? "is outside the workspace"
          : ref.field === "deps"
            ? depProblem(ref.wsPath)
            : outputProblem(ref.wsPath, files);
      if (problem) {
        const message = `stage '${stage.name}': '${ref.field}' path '${ref.path}' ${problem}`;
        add(ref.span, message, Code.forbiddenPath);
      }
    }
  }
}

/** A path in `cmd` that another stage writes, missing from deps: the DAG would not order them. */
function checkCommands(ctx: DocContext, add: Add): void {
  for (const stage of ctx.model.stages) {
    for (const { token, span } of commandTokens(ctx, stage)) {
      const wsPath = normalise(stage.wdir, token);
      if (wsPath === undefined) {
        continue;
      }
      const producer = ctx.index
        .producers(wsPath)
        .find((o) => o.stage !== stage && o.wsPath === wsPath);
      const listed = stage.deps.some(
        (d) => d.wsPath !== undefined && (d.wsPath === wsPath || wsPath.startsWith(`${d.wsPath}/`)),
      );
      if (producer && !listed) {
        add(
          span,
          `'${token}' is written by stage '${producer.stage.name}' but is not in this stage's deps, so the stages may run in the wrong order`,
          Code.undeclaredDep,
          DiagnosticSeverity.Warning,
          { stage: stage.name, path: token },
        );
      }
    }
  }
}

/** Whitespace-separated words of the stage's `cmd` scalars that look like paths, with spans. */
export function commandTokens(ctx: DocContext, stage: StageInfo): { token: string; span: Span }[] {
  const body = stage.body;
  if (!isMap(body)) {
    return [];
  }
  const pair = body.items.find((p) => keyText(p) === "cmd");
  const value = pair?.value as Node | null | undefined;
  const scalars = isScalar(value)
    ? [value]
    : value && "items" in value
      ? (value.items as Node[]).filter(isScalar)
      : [];
  const tokens: { token: string; span: Span }[] = [];
  for (const scalar of scalars) {
    const span = spanOf(scalar, stage.base);
    const source = ctx.model.text.slice(span.start, span.end);
    const pattern = /[^\s'"`;&|<>()=]+/g;
    for (let m = pattern.exec(source); m; m = pattern.exec(source)) {
      if (m[0].includes("/") || m[0].includes(".")) {
        const start = span.start + m.index;
        tokens.push({ token: m[0], span: { start, end: start + m[0].length } });
      }
    }
  }
  return tokens;
}
