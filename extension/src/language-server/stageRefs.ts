/**
 * Where the pipeline file names a stage outside `stages:`: a `models:` entry's `from` (the stage
 * whose output it registers) and `metrics` (the stages whose metrics join the version), as
 * daemon/src/registry/models-section.ts reads them (a single string is a list of one). A name
 * may be a foreach/matrix stage's generated one (`train@paris`), which names its group `train`.
 */
import { isMap, isScalar, isSeq, type Node } from "yaml";
import type { PipelineModel, StageInfo } from "./analysis";
import { keyText, spanOf, type Span } from "./yamlNodes";

export interface StageRef {
  /** The name as written. */
  name: string;
  /** The name's text (inside quotes, when quoted). */
  span: Span;
  field: "from" | "metrics";
  model: string;
}

/** The stage names in a `models:` section's value; spans moved by `base`. */
export function readStageRefs(models: Node | null, text: string, base: number): StageRef[] {
  const refs: StageRef[] = [];
  if (!isMap(models)) {
    return refs;
  }
  for (const entry of models.items) {
    const model = keyText(entry);
    if (model === undefined || !isMap(entry.value)) {
      continue;
    }
    for (const pair of entry.value.items) {
      const field = keyText(pair);
      if (field !== "from" && field !== "metrics") {
        continue;
      }
      const value = pair.value as Node | null;
      const items = isSeq(value) ? (value.items as Node[]) : [value];
      for (const item of items) {
        if (isScalar(item) && typeof item.value === "string") {
          const span = unquoted(spanOf(item, base), text);
          refs.push({ name: item.value, span, field, model });
        }
      }
    }
  }
  return refs;
}

/** The stage a reference names (a generated name names its foreach/matrix stage). */
export function stageOfRef(model: PipelineModel, ref: StageRef): StageInfo | undefined {
  const exact = model.stagesByName.get(ref.name);
  if (exact) {
    return exact;
  }
  const at = ref.name.indexOf("@");
  const group = at > 0 ? model.stagesByName.get(ref.name.slice(0, at)) : undefined;
  return group?.template ? group : undefined;
}

/** The part of the reference that is the stage's written name: all of it, or before the `@`. */
export function nameSpan(ref: StageRef, stage: StageInfo): Span {
  return { start: ref.span.start, end: ref.span.start + stage.name.length };
}

/**
 * The edit that renames `stage` in the reference, keeping a generated name's `@key`. A name
 * written with escapes (`"tr\x61in"`) is rewritten whole.
 */
export function renameEdit(
  ref: StageRef,
  stage: StageInfo,
  text: string,
  newName: string,
): { span: Span; newText: string } {
  const isLiteral = text.slice(ref.span.start, ref.span.end) === ref.name;
  return isLiteral
    ? { span: nameSpan(ref, stage), newText: newName }
    : { span: ref.span, newText: newName + ref.name.slice(stage.name.length) };
}

/** Every reference to `stage`. */
export function refsTo(model: PipelineModel, stage: StageInfo): StageRef[] {
  return model.stageRefs.filter((ref) => stageOfRef(model, ref) === stage);
}

function unquoted(span: Span, text: string): Span {
  const first = text[span.start];
  const isQuoted = (first === '"' || first === "'") && text[span.end - 1] === first;
  return isQuoted ? { start: span.start + 1, end: span.end - 1 } : span;
}
