/**
 * What sits at an offset of a pipeline document: a param, a path, a `${var}`, a stage's name (in
 * `stages:` or where `models:` names it), a key.
 */
import type { ParamRef, PathRef, StageInfo, VarRef } from "./analysis";
import { contains, type DocContext } from "./context";
import { cursorAt } from "./cursor";
import { stageOfRef, type StageRef } from "./stageRefs";

export type Target =
  | { kind: "param"; ref: ParamRef }
  | { kind: "path"; ref: PathRef }
  | { kind: "var"; ref: VarRef }
  | { kind: "stage"; stage: StageInfo }
  /** `stage` is undefined when the name matches no stage. */
  | { kind: "stageRef"; ref: StageRef; stage: StageInfo | undefined }
  | { kind: "key"; name: string; path: string[]; start: number; end: number };

export function targetAt(ctx: DocContext, offset: number): Target | undefined {
  for (const v of ctx.model.varRefs) {
    if (contains(v.span, offset)) {
      return { kind: "var", ref: v };
    }
  }
  for (const ref of ctx.model.stageRefs) {
    if (contains(ref.span, offset)) {
      return { kind: "stageRef", ref, stage: stageOfRef(ctx.model, ref) };
    }
  }
  for (const stage of ctx.model.stages) {
    if (!contains(stage.span, offset)) {
      continue;
    }
    if (contains(stage.keySpan, offset)) {
      return { kind: "stage", stage };
    }
    const param = stage.params.find((p) => contains(p.span, offset));
    if (param) {
      return { kind: "param", ref: param };
    }
    const path = [...stage.deps, ...stage.outputs].find((p) => contains(p.span, offset));
    if (path) {
      return { kind: "path", ref: path };
    }
  }
  return keyAt(ctx, offset);
}

/** A mapping key under the offset, with the key path of its mapping. */
function keyAt(ctx: DocContext, offset: number): Target | undefined {
  const text = ctx.model.text;
  let start = offset;
  let end = offset;
  while (start > 0 && /[\w.-]/.test(text[start - 1]!)) {
    start--;
  }
  while (end < text.length && /[\w.-]/.test(text[end]!)) {
    end++;
  }
  if (start === end || text[end] !== ":") {
    return undefined;
  }
  const cursor = cursorAt(text, end);
  if (cursor.kind !== "key") {
    return undefined;
  }
  return { kind: "key", name: text.slice(start, end), path: cursor.path, start, end };
}
