/**
 * Quick fixes: add a missing key to its params file, and add a file another stage produces to the
 * deps of the stage whose command reads it.
 */
import { pathToFileURL } from "node:url";
import { isMap, isSeq, type Node } from "yaml";
import {
  CodeActionKind,
  type CodeAction,
  type Diagnostic,
  type TextEdit,
} from "vscode-languageserver";
import { keyText, spanOf, type StageInfo } from "./analysis";
import { type DocContext } from "./context";
import { Code } from "./diagnostics";
import { addKeyEdit } from "./paramsEdit";

export function codeActions(ctx: DocContext, diagnostics: Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    const data = diagnostic.data as Record<string, string> | undefined;
    if (diagnostic.code === Code.unknownParam && data?.file && data.key) {
      const action = addParam(ctx, data.file, data.key);
      if (action) {
        actions.push({ ...action, diagnostics: [diagnostic] });
      }
    } else if (diagnostic.code === Code.undeclaredDep && data?.stage && data.path) {
      const stage = ctx.model.stagesByName.get(data.stage);
      const edit = stage && addDep(ctx, stage, data.path);
      if (edit) {
        actions.push({
          title: `Add '${data.path}' to the deps of '${data.stage}'`,
          kind: CodeActionKind.QuickFix,
          isPreferred: true,
          diagnostics: [diagnostic],
          edit: { changes: { [ctx.document.uri]: [edit] } },
        });
      }
    }
  }
  return actions;
}

/** Adds `key: null` to its params file, under its deepest existing section (paramsEdit.ts). */
function addParam(
  ctx: DocContext,
  file: string,
  key: string,
): Omit<CodeAction, "diagnostics"> | undefined {
  const params = ctx.files?.paramsFile(file);
  const edit = params && addKeyEdit(params.text, key, file.endsWith(".json"));
  if (!params || !edit) {
    return undefined;
  }
  return {
    title: `Add '${key}' to ${file}`,
    kind: CodeActionKind.QuickFix,
    isPreferred: true,
    edit: { changes: { [pathToFileURL(params.abs).toString()]: [edit] } },
  };
}

/** Appends `path` to the stage's deps, keeping the list's style; adds `deps:` when missing. */
function addDep(ctx: DocContext, stage: StageInfo, path: string): TextEdit | undefined {
  const body = stage.body;
  if (!isMap(body)) {
    return undefined;
  }
  const doc = ctx.document;
  const pair = body.items.find((p) => keyText(p) === "deps");
  const deps = pair?.value as Node | null | undefined;
  if (isSeq(deps) && deps.flow) {
    const close = spanOf(deps, stage.base).end - 1;
    const at = doc.positionAt(close);
    return { range: { start: at, end: at }, newText: deps.items.length ? `, ${path}` : path };
  }
  if (isSeq(deps) && deps.items.length) {
    const lastItem = spanOf(deps.items[deps.items.length - 1], stage.base);
    const itemStart = doc.positionAt(lastItem.start);
    const lineText = doc.getText({ start: { line: itemStart.line, character: 0 }, end: itemStart });
    const dashIndent = lineText.indexOf("-");
    const end = doc.positionAt(lastItem.end);
    return {
      range: { start: end, end },
      newText: `\n${" ".repeat(Math.max(dashIndent, 0))}- ${path}`,
    };
  }
  const firstKey = body.items[0]?.key;
  const keyPos = doc.positionAt(spanOf(firstKey, stage.base).start);
  const at = { line: keyPos.line, character: 0 };
  return {
    range: { start: at, end: at },
    newText: `${" ".repeat(keyPos.character)}deps: [${path}]\n`,
  };
}
