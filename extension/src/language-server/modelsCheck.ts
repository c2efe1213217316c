/**
 * The `models:` section checked with the rules `lathe repro` and `status` use (the daemon's
 * registry/models-section.ts, bundled here): a `from` or `metrics` stage that does not exist, a
 * `path` the stage does not write or a stage without one .onnx output, a gate condition that does
 * not parse, an invalid alias. Shape problems (types, unknown fields) are the schema's.
 */
import { parseDocument } from "yaml";
import {
  checkModelsSection,
  modelsPair,
  type SectionStages,
} from "../../../daemon/src/registry/models-section";
import type { Span, StageInfo } from "./analysis";
import type { DocContext } from "./context";

export interface ModelsProblem {
  span: Span;
  message: string;
}

export function checkModels(ctx: DocContext): ModelsProblem[] {
  const text = ctx.model.text;
  const section = modelsSlice(text);
  if (!section) {
    return [];
  }
  // The section alone: small, and its offsets only move by where it starts.
  const doc = parseDocument(text.slice(section.start, section.end), { uniqueKeys: false });
  const pair = modelsPair(doc.contents);
  if (doc.errors.length > 0 || !pair) {
    return []; // Syntax errors are reported on their own.
  }
  const schema = ctx.model.schemaProblems.map((p) => p.span);
  const problems: ModelsProblem[] = [];
  for (const p of checkModelsSection(pair, sectionStages(ctx.model.stages))) {
    const range = p.node?.range;
    if (!range) {
      continue;
    }
    const span = { start: section.start + range[0], end: section.start + range[1] };
    // A node the schema already faults (a list where a string goes…) is not reported twice.
    if (!schema.some((s) => s.start < span.end && span.start < s.end)) {
      problems.push({ span, message: p.message });
    }
  }
  return problems;
}

/** From `models:` at column 0 to the next top-level key (or the end). */
function modelsSlice(text: string): Span | undefined {
  const header = /^models:/m.exec(text);
  if (!header) {
    return undefined;
  }
  const next = /^[^\s#]/gm;
  next.lastIndex = text.indexOf("\n", header.index) + 1 || text.length;
  const end = next.exec(text);
  return { start: header.index, end: end ? end.index : text.length };
}

/**
 * The stages as the daemon names them. A foreach/matrix stage `train` makes `train@<key>`
 * stages, whose outputs the language server does not expand: those names are accepted and their
 * outputs not checked, as are outputs written with `${…}`.
 */
function sectionStages(stages: StageInfo[]): SectionStages {
  const plain = new Map<string, StageInfo>();
  const templates: string[] = [];
  for (const s of stages) {
    if (s.template) {
      templates.push(s.name);
    } else {
      plain.set(s.name, s);
    }
  }
  return {
    names: [...plain.keys(), ...templates.map((t) => `${t}@…`)],
    has: (name) => plain.has(name) || templates.some((t) => name.startsWith(`${t}@`)),
    outputs: (name) => {
      const outs = plain.get(name)?.outputs.map((o) => o.wsPath);
      return outs && outs.every((o) => o !== undefined) ? outs : undefined;
    },
  };
}
