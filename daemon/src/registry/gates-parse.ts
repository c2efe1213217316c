/**
 * The `models:` section of lathe.yaml (#5), read from the workspace's pipeline file for `lathe
 * repro`, `status` and `dag`. The rules live in models-section.ts, which the language server
 * bundles too. docs/pipeline.md has the semantics.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pipelineFile } from "../pipeline/parse";
import { cachedParse } from "../pipeline/parsecache";
import { stageOutputs, type Pipeline } from "../pipeline/spec";
import { parseModelsSection as parseSection, type ModelEntry } from "./models-section";

export type { GateCondition, GateOp, ModelEntry } from "./models-section";

/** The `models:` entries of the workspace's pipeline file (none when it has no such section). */
export function loadModelsSection(root: string, pipeline: Pipeline): ModelEntry[] {
  const file = pipelineFile(root);
  if (!file || !existsSync(join(root, file))) {
    return [];
  }
  // Status and dag check this section on every call (the Pipelines view refreshes often): parse
  // it once per version of the file and of the stages it may name.
  const abs = join(root, file);
  const stages = pipeline.stages.map((s) => [s.name, stageOutputs(s).map((o) => o.wsPath)]);
  return cachedParse(root, `models:${file}:${JSON.stringify(stages)}`, [abs], () =>
    parseModelsSection(file, readFileSync(abs, "utf8"), pipeline),
  );
}

/** The entries of `models:` in `text`; LATHE_BAD_FILE naming file:line:col at the first error. */
export function parseModelsSection(file: string, text: string, pipeline: Pipeline): ModelEntry[] {
  const outputs = new Map(
    pipeline.stages.map((s) => [s.name, stageOutputs(s).map((o) => o.wsPath)] as const),
  );
  return parseSection(file, text, {
    names: [...outputs.keys()],
    has: (name) => outputs.has(name),
    outputs: (name) => outputs.get(name),
  });
}
