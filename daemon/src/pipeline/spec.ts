/**
 * The parsed form of lathe.yaml (or dvc.yaml). Every entry keeps where it was written, so that a
 * later check (a missing dep, a params key, a cycle) can name the file, line and column.
 */

/** A 1-based line and column in the pipeline file. */
export interface Pos {
  line: number;
  col: number;
}

/** A path entry (dep, out, metrics, plots) as written, plus its workspace-relative form. */
export interface PathEntry {
  /** As written in the file, relative to the stage's wdir. */
  path: string;
  /** Workspace-relative, normalised, forward slashes: what the DAG compares. */
  wsPath: string;
  /** `{path: {cache: false}}`: the out is checked and hashed but not copied to the store. */
  cache: boolean;
  /** `{path: {persist: true}}`: the out is not removed before its stage runs. */
  persist: boolean;
  pos: Pos;
}

export interface ParamEntry {
  /** The params file, workspace-relative (default params.yaml). */
  file: string;
  /** Dotted key into that file. */
  key: string;
  pos: Pos;
}

export interface Stage {
  name: string;
  /** The command; the list form is already joined with ` && `. */
  cmd: string;
  /** Workspace-relative working directory ("" for the root). */
  wdir: string;
  deps: PathEntry[];
  params: ParamEntry[];
  outs: PathEntry[];
  metrics: PathEntry[];
  plots: PathEntry[];
  desc: string | null;
  alwaysChanged: boolean;
  frozen: boolean;
  pos: Pos;
}

export interface Pipeline {
  /** lathe.yaml or dvc.yaml, workspace-relative. */
  file: string;
  /** The top-level `experiment:` value, if any. */
  experiment: string | null;
  /** In file order. */
  stages: Stage[];
  /** Parts of the file Lathe reads but ignores, each starting with `file:line:col: `. */
  warnings: string[];
}

/** `lathe.yaml:12:5: ` — the prefix of every message about a place in a file. */
export function at(file: string, pos: Pos): string {
  return `${file}:${pos.line}:${pos.col}: `;
}

/** Everything a stage writes: outs, metrics and plots are all outputs, as in dvc. */
export function stageOutputs(stage: Stage): PathEntry[] {
  return [...stage.outs, ...stage.metrics, ...stage.plots];
}
