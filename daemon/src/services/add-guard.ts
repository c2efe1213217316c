/**
 * What `lathe add` must refuse because git or the pipeline owns it: the pipeline file, its lock,
 * the params files its stages read, and the stages' outputs (versioned by `lathe repro` in
 * lathe.lock, as dvc refuses `dvc add` of a stage output). Adding one would git-ignore it, so a
 * project would silently stop tracking its pipeline or fight repro over the same path.
 */
import { LatheError } from "../errors";
import { loadPipeline, pipelineFile } from "../pipeline/parse";
import { LOCK_FILE, overlapOf, pipelineFiles } from "../pipeline/reserved";
import { paramsUses, stageOutputs, type Pipeline } from "../pipeline/spec";

/** A workspace-relative path `lathe add` refuses, and why, as the rest of a sentence. */
interface Reserved {
  path: string;
  /** "a pipeline file", "an output of stage 'prepare'"… */
  what: string;
  /** What to do instead. */
  advice: string;
  isOutput: boolean;
}

const TRACK_IN_GIT = "git must track it with the code; commit it instead";

/**
 * Throws LATHE_BAD_INPUT for the first of `rels` (workspace-relative) that is, is inside or
 * holds a reserved path. A pipeline file that does not parse still protects the fixed names
 * (lathe.yaml, dvc.yaml, lathe.lock, params.yaml) but names no other params files or outputs:
 * `lathe repro` reports the parse error, and adding other data must keep working meanwhile.
 */
export function checkNotReserved(root: string, rels: string[]): void {
  const reserved = reservedPaths(root);
  for (const rel of rels) {
    for (const r of reserved) {
      const reason = clash(rel, r);
      if (reason) {
        throw new LatheError("LATHE_BAD_INPUT", `Cannot add ${rel}: ${reason}`, {
          path: rel,
          reserved: r.path,
        });
      }
    }
  }
}

function clash(rel: string, r: Reserved): string | undefined {
  const tail = `${r.what}: ${r.advice}.`;
  switch (overlapOf(rel, r.path)) {
    case "is":
      return r.isOutput ? `${rel} is ${tail}` : `it is ${tail}`;
    case "inside":
      return `it is inside ${r.path}, ${tail}`;
    case "holds":
      return `it holds ${r.path}, ${tail}`;
    case undefined:
      return undefined;
  }
}

function reservedPaths(root: string): Reserved[] {
  const pipeline = pipelineFile(root) ? parsedOrUndefined(root) : undefined;
  const uses = pipeline ? paramsUses(pipeline.file, pipeline.stages) : [];
  // FIXME(#4): refuse the pipeline's `vars` files too, as the parser does for outputs; the parsed
  // Pipeline does not record them yet, so `lathe add config.yaml` still git-ignores one.
  const files = pipelineFiles(uses).map((f) => ({ ...f, advice: TRACK_IN_GIT, isOutput: false }));
  return pipeline ? [...files, ...outputs(pipeline)] : files;
}

function parsedOrUndefined(root: string): Pipeline | undefined {
  try {
    return loadPipeline(root);
  } catch {
    return undefined; // Reported by `lathe repro` and `lathe status`, not by `lathe add`.
  }
}

function outputs(pipeline: Pipeline): Reserved[] {
  return pipeline.stages.flatMap((stage) =>
    stageOutputs(stage).map((out) => ({
      path: out.wsPath,
      what: `an output of stage '${stage.name}'`,
      advice: `lathe repro versions it in ${LOCK_FILE}; add the stage's inputs instead`,
      isOutput: true,
    })),
  );
}
