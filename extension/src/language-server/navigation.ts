/**
 * Go to definition (dep → the output that produces it, param → its line in the params file,
 * `${var}` → its definition), find references of an output or a stage, the outline (stages as
 * symbols), renaming a stage and the "Run stage" code lenses.
 */
import { pathToFileURL } from "node:url";
import {
  SymbolKind,
  type CodeLens,
  type DocumentSymbol,
  type Location,
  type Position,
  type Range,
  type WorkspaceEdit,
} from "vscode-languageserver";
import type { PathRef, StageInfo } from "./analysis";
import { allVars, rangeOf, type DocContext } from "./context";
import { targetAt } from "./lookup";

export const RUN_STAGE_COMMAND = "lathe.runStage";

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
      const def = allVars(ctx).find((v) => v.name === target.ref.name);
      if (def?.span) {
        return [here(def.span)];
      }
      const file = def?.file ? ctx.files?.paramsFile(def.file) : undefined;
      const key = file?.keys.get(def!.name);
      return file && key
        ? [fileLocation(file.abs, key.line, key.character, def!.name.split(".").pop()!.length)]
        : [];
    }
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

/** An output (or a stage: all its outputs) and every dep that reads it. */
export function references(
  ctx: DocContext,
  position: Position,
  includeDeclaration: boolean,
): Location[] {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  let outputs: PathRef[] = [];
  if (target?.kind === "stage") {
    outputs = target.stage.outputs;
  } else if (target?.kind === "path" && target.ref.field !== "deps") {
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
  return [...spans].map((ref) => ({
    uri: ctx.document.uri,
    range: rangeOf(ctx.document, ref.span),
  }));
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

export function prepareRename(ctx: DocContext, position: Position): Range | null {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  return target?.kind === "stage" ? rangeOf(ctx.document, target.stage.keySpan) : null;
}

/** Renames a stage: its key (stages are named nowhere else in the file). */
export function rename(ctx: DocContext, position: Position, newName: string): WorkspaceEdit | null {
  const target = targetAt(ctx, ctx.document.offsetAt(position));
  if (target?.kind !== "stage" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(newName)) {
    return null;
  }
  const edits = [{ range: rangeOf(ctx.document, target.stage.keySpan), newText: newName }];
  return { changes: { [ctx.document.uri]: edits } };
}

export function codeLenses(ctx: DocContext): CodeLens[] {
  return ctx.model.stages
    .filter((stage: StageInfo) => !stage.template)
    .map((stage) => ({
      range: rangeOf(ctx.document, stage.keySpan),
      command: { title: "$(play) Run stage", command: RUN_STAGE_COMMAND, arguments: [stage.name] },
    }));
}
