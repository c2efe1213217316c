/**
 * Completion at the cursor: the keys the schema allows there (with their docs), workspace paths
 * and other stages' outputs in deps, params keys with their current values, `${vars}`, metric
 * names, and true/false for flags.
 */
import { posix } from "node:path";
import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type Position,
} from "vscode-languageserver";
import { normalise, type StageInfo } from "./analysis";
import type { DocContext } from "./context";
import { cursorAt, type Cursor } from "./cursor";
import { metricNames } from "./metrics";
import { fieldsAt, schemasAt, valueTypes } from "./schema";
import { varsAt, type VarDef } from "./vars";

const RETRIGGER = { title: "Suggest", command: "editor.action.triggerSuggest" };

export function complete(ctx: DocContext, position: Position): CompletionItem[] {
  const offset = ctx.document.offsetAt(position);
  const cursor = cursorAt(ctx.model.text, offset);
  const edit = (newText: string) => ({
    range: { start: ctx.document.positionAt(cursor.prefixStart), end: position },
    newText,
  });
  if (cursor.inVar) {
    return varItems(ctx, offset, edit);
  }
  // `foreach` stages keep their stage under `do:`.
  const path =
    cursor.path[2] === "do" ? [...cursor.path.slice(0, 2), ...cursor.path.slice(3)] : cursor.path;
  const stage =
    path[0] === "stages" && path[1] !== undefined ? ctx.model.stagesByName.get(path[1]) : undefined;
  if (cursor.kind === "key") {
    return keyItems(cursor, stage, edit);
  }
  const field = path[2];
  if (stage && field === "deps" && path.length === 3) {
    return [
      ...outputItems(ctx, stage, edit),
      ...pathItems(ctx, stage.wdir, cursor.prefix, edit, "file"),
    ];
  }
  if (
    stage &&
    (field === "outs" || field === "metrics" || field === "plots") &&
    path.length === 3
  ) {
    return pathItems(ctx, stage.wdir, cursor.prefix, edit, "file");
  }
  if (stage && field === "wdir" && cursor.kind === "value") {
    return pathItems(ctx, "", cursor.prefix, edit, "dir");
  }
  if (stage && field === "params" && path.length <= 4) {
    const file =
      path[3] === undefined
        ? posix.join(stage.wdir, "params.yaml")
        : normalise(stage.wdir, path[3]);
    return file ? paramItems(ctx, stage, file, edit) : [];
  }
  // A models: entry names stages: the one whose output it registers and those that evaluate it.
  if (path[0] === "models" && (path[2] === "from" || path[2] === "metrics")) {
    return [...ctx.model.stagesByName.keys()].map((name) => ({
      label: name,
      kind: CompletionItemKind.Reference,
      detail: "stage",
      textEdit: edit(name),
    }));
  }
  if (path.includes("models") || (field === "plots" && (path[4] === "x" || path[4] === "y"))) {
    return metricNames(ctx).map((name) => ({
      label: name,
      kind: CompletionItemKind.Value,
      textEdit: edit(name),
    }));
  }
  if (cursor.kind === "value" && isBoolean(path)) {
    return ["true", "false"].map((label) => ({
      label,
      kind: CompletionItemKind.Keyword,
      textEdit: edit(label),
    }));
  }
  return [];
}

type Edit = (text: string) => { range: { start: Position; end: Position }; newText: string };

function keyItems(cursor: Cursor, stage: StageInfo | undefined, edit: Edit): CompletionItem[] {
  const path = cursor.path[2] === "do" ? [...cursor.path.slice(0, 2), "do"] : cursor.path;
  if (path.length === 1 && path[0] === "stages") {
    return [];
  }
  const present = path.length === 2 && stage ? new Set(stage.fields.keys()) : new Set<string>();
  present.delete(cursor.prefix);
  const items: CompletionItem[] = [];
  let rank = 0;
  for (const [name, doc] of fieldsAt(path)) {
    rank++;
    if (present.has(name)) {
      continue;
    }
    items.push({
      label: name,
      kind: CompletionItemKind.Property,
      documentation: { kind: MarkupKind.Markdown, value: doc },
      textEdit: edit(`${name}: `),
      sortText: String(rank).padStart(3, "0"),
      command: ["deps", "params", "outs", "wdir", "metrics", "plots"].includes(name)
        ? RETRIGGER
        : undefined,
    });
  }
  return items;
}

function outputItems(ctx: DocContext, stage: StageInfo, edit: Edit): CompletionItem[] {
  const deps = new Set(stage.deps.map((d) => d.wsPath));
  const items: CompletionItem[] = [];
  for (const other of ctx.model.stages) {
    if (other === stage) {
      continue;
    }
    for (const out of other.outputs) {
      if (out.wsPath === undefined || deps.has(out.wsPath)) {
        continue;
      }
      const text = stage.wdir ? posix.relative(stage.wdir, out.wsPath) : out.wsPath;
      items.push({
        label: text,
        kind: CompletionItemKind.Reference,
        detail: `${out.field} of stage '${other.name}'`,
        textEdit: edit(text),
        sortText: `0${text}`,
      });
    }
  }
  return items;
}

function pathItems(
  ctx: DocContext,
  wdir: string,
  prefix: string,
  edit: Edit,
  want: "file" | "dir",
): CompletionItem[] {
  if (!ctx.files) {
    return [];
  }
  const dirPart = prefix.slice(0, prefix.lastIndexOf("/") + 1);
  const wsDir = normalise(wdir, dirPart || ".");
  if (wsDir === undefined) {
    return [];
  }
  return ctx.files
    .list(wsDir === "." ? "" : wsDir)
    .filter((name) => want === "file" || name.endsWith("/"))
    .map((name) => {
      const isDir = name.endsWith("/");
      const text = `${dirPart}${name}`;
      return {
        label: text,
        kind: isDir ? CompletionItemKind.Folder : CompletionItemKind.File,
        textEdit: edit(text),
        sortText: `1${text}`,
        command: isDir ? RETRIGGER : undefined,
      };
    });
}

function paramItems(ctx: DocContext, stage: StageInfo, file: string, edit: Edit): CompletionItem[] {
  const params = ctx.files?.paramsFile(file);
  if (!params) {
    return [];
  }
  const used = new Set(stage.params.filter((p) => p.file === file).map((p) => p.key));
  const items: CompletionItem[] = [];
  for (const key of params.keys.values()) {
    if (used.has(key.key)) {
      continue;
    }
    items.push({
      label: key.key,
      kind: key.isMapping ? CompletionItemKind.Module : CompletionItemKind.Property,
      detail: key.isMapping ? `${file}: section` : `${key.display} (${file})`,
      textEdit: edit(key.key),
      // Leaves first: a section is a rarer pick.
      sortText: `${key.isMapping ? 1 : 0}${key.key}`,
      insertTextFormat: InsertTextFormat.PlainText,
    });
  }
  return items;
}

/**
 * The names `${…}` reads here, each with its value: a foreach/matrix stage's own first, then
 * those of `vars:`, then params.yaml's (the defaults).
 */
function varItems(ctx: DocContext, offset: number, edit: Edit): CompletionItem[] {
  const rank = (v: VarDef) => (v.stage ? 0 : v.origin === "params.yaml" ? 2 : 1);
  const defs = varsAt(ctx, offset).sort((a, b) => rank(a) - rank(b));
  return defs.map((v, i) => ({
    label: v.name,
    kind: CompletionItemKind.Variable,
    detail: varDetail(v),
    textEdit: edit(v.name),
    sortText: String(i).padStart(5, "0"),
  }));
}

function varDetail(v: VarDef): string {
  switch (v.origin) {
    case "vars":
      return v.display;
    case "params.yaml":
    case "vars file":
      return `${v.display} (${v.file})`;
    case "foreach":
    case "matrix":
      return `${v.display} (${v.origin} of '${v.stage!.name}')`;
  }
}

function isBoolean(path: string[]): boolean {
  const schemas = schemasAt(path);
  return schemas.length > 0 && schemas.every((s) => valueTypes(s).join() === "boolean");
}
