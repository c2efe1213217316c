/**
 * Go to definition (dep → the output that produces it, param → its line in the params file,
 * `${var}` → its definition, a stage named in `models:` → the stage), find references of an
 * output or a stage, the outline (stages as symbols), renaming a stage and the "Run stage" code
 * lenses.
 */
import { pathToFileURL } from "node:url";
import {
  LSPErrorCodes,
  ResponseError,
  SymbolKind,
  type CodeLens,
  type DocumentSymbol,
  type Location,
  type Position,
  type Range,
  type WorkspaceEdit,
} from "vscode-languageserver";
import type { PathRef, Span, StageInfo } from "./analysis";
import { rangeOf, type DocContext } from "./context";
import { targetAt } from "./lookup";
import { nameSpan, refsTo, renameEdit } from "./stageRefs";
import { stageStatuses } from "./staleness";
import { stateCommand } from "./stateLens";
import { resolveVar, varsAt } from "./vars";

export const RUN_STAGE_COMMAND = "lathe.runStage";

/** As the engine checks stage names (daemon/src/pipeline/parse.ts). */
const STAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function definition(ctx: DocContext, position: Position): Location[] {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  const here = (span: { start: number; end: number }): Location => ({
    uri: ctx.document.uri,
    range: rangeOf(ctx.document, span),
  });
  switch (target?.kind) {
    case "path":
      if (target.ref.field === "deps" && target.ref.wsPath !== undefined) {
        return ctx.index.producers(target.ref.wsPath).map((o) => here(o.span));
      }
      return [];
    case "param": {
      const file = ctx.files?.paramsFile(target.ref.file);
      const key = file?.keys.get(target.ref.key);
      return file && key
        ? [fileLocation(file.abs, key.line, key.character, target.ref.key.split(".").pop()!.length)]
        : [];
    }
    case "var": {
      const def = resolveVar(varsAt(ctx, target.ref.span.start), target.ref.name)?.def;
      if (def?.key) {
        return [fileLocation(def.key.abs, def.key.line, def.key.character, def.key.length)];
      }
      return def ? def.spans.map(here) : [];
    }
    case "stageRef":
      return target.stage ? [here(target.stage.keySpan)] : [];
    default:
      return [];
  }
}

function fileLocation(abs: string, line: number, character: number, length: number): Location {
  return {
    uri: pathToFileURL(abs).toString(),
    range: { start: { line, character }, end: { line, character: character + length } },
  };
}

/**
 * A stage (at its name, or where `models:` names it): its name and every place naming it. An
 * output, or the outputs a dep reads: them and every dep that reads them.
 */
export function references(
  ctx: DocContext,
  position: Position,
  includeDeclaration: boolean,
): Location[] {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  const here = (span: Span): Location => ({
    uri: ctx.document.uri,
    range: rangeOf(ctx.document, span),
  });
  const stage = target?.kind === "stage" || target?.kind === "stageRef" ? target.stage : undefined;
  if (stage) {
    const names = refsTo(ctx.model, stage).map((ref) => here(ref.span));
    return includeDeclaration ? [here(stage.keySpan), ...names] : names;
  }
  let outputs: PathRef[] = [];
  if (target?.kind === "path" && target.ref.field !== "deps") {
    outputs = [target.ref];
  } else if (target?.kind === "path" && target.ref.wsPath !== undefined) {
    outputs = ctx.index.producers(target.ref.wsPath);
  }
  const spans = new Set<PathRef>(includeDeclaration ? outputs : []);
  for (const stage of ctx.model.stages) {
    for (const dep of stage.deps) {
      if (
        dep.wsPath !== undefined &&
        ctx.index.producers(dep.wsPath).some((o) => outputs.includes(o))
      ) {
        spans.add(dep);
      }
    }
  }
  return [...spans].map((ref) => here(ref.span));
}

export function symbols(ctx: DocContext): DocumentSymbol[] {
  return ctx.model.stages.map((stage) => ({
    name: stage.name,
    detail: stage.template
      ? "foreach/matrix stage"
      : `${stage.deps.length} deps → ${stage.outputs.length} outputs`,
    kind: SymbolKind.Function,
    range: rangeOf(ctx.document, stage.span),
    selectionRange: rangeOf(ctx.document, stage.keySpan),
    children: [...stage.fields].map(([name, span]) => ({
      name,
      kind: SymbolKind.Field,
      range: rangeOf(ctx.document, span),
      selectionRange: rangeOf(ctx.document, span),
    })),
  }));
}

/** A stage's name, at its key or where `models:` names it (of `train@paris`, the `train`). */
export function prepareRename(
  ctx: DocContext,
  position: Position,
): { range: Range; placeholder: string } | ResponseError | null {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  if (target?.kind === "stage") {
    const { stage } = target;
    return { range: rangeOf(ctx.document, stage.keySpan), placeholder: stage.name };
  }
  if (target?.kind !== "stageRef") {
    return null;
  }
  if (!target.stage) {
    return refused(
      `'${target.ref.name}' names no stage of this file, so there is nothing to rename`,
    );
  }
  const span = nameSpan(target.ref, target.stage);
  return { range: rangeOf(ctx.document, span), placeholder: target.stage.name };
}

/**
 * Renames a stage: its key and every `models:` entry naming it (`from`, `metrics`; a generated
 * `train@paris` keeps its `@paris`). Refused when the new name is not a stage name or is taken.
 */
export function rename(
  ctx: DocContext,
  position: Position,
  newName: string,
): WorkspaceEdit | ResponseError | null {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  const stage = target?.kind === "stage" || target?.kind === "stageRef" ? target.stage : undefined;
  if (!stage) {
    return null;
  }
  if (!STAGE_NAME.test(newName)) {
    return refused(
      `'${newName}' is not a valid stage name: use letters, digits, '_', '.' and '-', not starting with '.' or '-'`,
    );
  }
  const taken = ctx.model.stagesByName.get(newName);
  if (taken && taken !== stage) {
    const line = ctx.document.positionAt(taken.keySpan.start).line + 1;
    return refused(`a stage named '${newName}' already exists (line ${line})`);
  }
  const edits = [{ range: rangeOf(ctx.document, stage.keySpan), newText: newName }];
  for (const ref of refsTo(ctx.model, stage)) {
    const edit = renameEdit(ref, stage, ctx.model.text, newName);
    edits.push({ range: rangeOf(ctx.document, edit.span), newText: edit.newText });
  }
  return { changes: { [ctx.document.uri]: edits } };
}

/** An answer the editor shows as the reason the rename cannot happen. */
function refused(message: string): ResponseError {
  return new ResponseError(LSPErrorCodes.RequestFailed, message);
}

/**
 * Above each stage: Run stage (Run group for a foreach/matrix stage: `lathe repro <name>` runs
 * all it generates) and its state from lathe.lock, as `lathe status --pipeline` words it.
 */
export function codeLenses(ctx: DocContext): CodeLens[] {
  const statuses = stageStatuses(ctx);
  return ctx.model.stages.flatMap((stage: StageInfo) => {
    const range = rangeOf(ctx.document, stage.keySpan);
    const run: CodeLens = {
      range,
      command: {
        title: stage.template ? "$(run-all) Run group" : "$(play) Run stage",
        command: RUN_STAGE_COMMAND,
        arguments: [stage.name],
      },
    };
    const status = statuses.get(stage);
    return status ? [run, { range, command: stateCommand(status, stage.template) }] : [run];
  });
}
