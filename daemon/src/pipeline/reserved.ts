/**
 * Ground a stage may not write, and the one rule `lathe add` and `lathe checkout` share with it:
 * the workspace itself, `.lathe/` (Lathe's state) and `.git/` (git's) are never data, and the
 * files the pipeline is made of (the pipeline file, its lock, its params and vars files) belong
 * to git. `lathe repro` deletes a stage's outputs before the stage runs, so an output there would
 * delete them. Pure (no file system): the language server bundles it too, so the editor reports
 * what `lathe repro` refuses, with the same words.
 */

export const LOCK_FILE = "lathe.lock";
export const DEFAULT_PARAMS_FILE = "params.yaml";
const PIPELINE_FILES = ["lathe.yaml", "dvc.yaml"];

/** Lathe's or git's own place: the workspace root, or inside `.lathe/` or `.git/`. */
export type Ground = "workspace" | ".lathe" | ".git";

/**
 * Which own place `rel` (workspace-relative, forward slashes; "" or "." for the root) is in. Any
 * `.git` component counts (a nested repository or submodule); only a top-level `.lathe` does.
 */
export function groundOf(rel: string): Ground | undefined {
  if (rel === "" || rel === ".") {
    return "workspace";
  }
  const parts = rel.split("/");
  if (parts[0] === ".lathe") {
    return ".lathe";
  }
  return parts.includes(".git") ? ".git" : undefined;
}

/** The rest of a sentence: "is the workspace itself", "is inside .git/, which holds git's…". */
export function groundText(ground: Ground): string {
  switch (ground) {
    case "workspace":
      return "is the workspace itself";
    case ".lathe":
      return "is inside .lathe/, which holds Lathe's own state";
    case ".git":
      return "is inside .git/, which holds git's own state";
  }
}

/** A file the pipeline is made of, workspace-relative, and what it is ("a pipeline file"). */
export interface PipelineFile {
  path: string;
  what: string;
}

/** The stages' params files as the parser and the language server both know them. */
export interface ParamsUse {
  stage: string;
  file: string;
  /** Where the file is named (`lathe.yaml:11:7`), when known. */
  at?: string;
}

/**
 * The pipeline files, lathe.lock, each params file (named after the first stage that reads it),
 * params.yaml (read for `${…}` whenever it exists) and the vars files. First mention wins.
 */
export function pipelineFiles(params: ParamsUse[], varsFiles: string[] = []): PipelineFile[] {
  const files: PipelineFile[] = [
    ...PIPELINE_FILES.map((path) => ({ path, what: "a pipeline file" })),
    { path: LOCK_FILE, what: "the pipeline's lock file" },
    ...params.map((p) => ({
      path: p.file,
      what: `the params file of stage '${p.stage}'${p.at ? ` (${p.at})` : ""}`,
    })),
    { path: DEFAULT_PARAMS_FILE, what: "the default params file" },
    ...varsFiles.map((path) => ({ path, what: "a vars file" })),
  ];
  const byPath = new Map<string, PipelineFile>();
  for (const file of files) {
    if (!byPath.has(file.path)) {
      byPath.set(file.path, file);
    }
  }
  return [...byPath.values()];
}

/** How `rel` meets a reserved path: it is the path, lies inside it, or holds it. */
export type Overlap = "is" | "inside" | "holds";

export function overlapOf(rel: string, reserved: string): Overlap | undefined {
  if (rel === reserved) {
    return "is";
  }
  if (rel.startsWith(`${reserved}/`)) {
    return "inside";
  }
  return reserved.startsWith(`${rel}/`) ? "holds" : undefined;
}

const DELETES = "lathe repro deletes a stage's outputs before it runs";

/**
 * Why `rel` (normalised, "." for the root) may not be an output (outs, metrics, plots), as the
 * rest of "'outs' path 'x' …", or undefined when it may.
 */
export function outputProblem(rel: string, files: PipelineFile[]): string | undefined {
  const ground = groundOf(rel);
  if (ground === "workspace") {
    return `${groundText(ground)}; ${DELETES}, so list the files or folders it writes inside the workspace`;
  }
  if (ground) {
    return `${groundText(ground)}; ${DELETES}`;
  }
  for (const file of files) {
    const overlap = overlapOf(rel, file.path);
    if (overlap === "is") {
      return `is ${file.what}, which git tracks with the code; ${DELETES}`;
    }
    if (overlap) {
      const how = overlap === "holds" ? "holds" : "is inside";
      return `${how} ${file.path}, ${file.what}, which git tracks with the code; ${DELETES}`;
    }
  }
  return undefined;
}

/**
 * Why `rel` may not be a dep, or undefined. A dep may read the pipeline's own files and `.git/`,
 * but not the workspace root or `.lathe/`: hashing them would hash Lathe's database and cache,
 * which every repro changes, so the stage would never be up to date.
 */
export function depProblem(rel: string): string | undefined {
  const changing =
    "(Lathe's database and cache, changed by every repro), so the stage would never be up to date; list the files or folders it reads";
  const ground = groundOf(rel);
  if (ground === "workspace") {
    return `is the workspace itself, which holds .lathe/ ${changing}`;
  }
  return ground === ".lathe" ? `is inside .lathe/ ${changing}` : undefined;
}
