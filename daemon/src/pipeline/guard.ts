/**
 * The symlink rule (docs/pipeline.md): Lathe deletes, writes, reads or hashes a stage's wdir,
 * deps and outputs only where they really lie inside the workspace, their symlinks followed.
 * The parser checks the paths as written (reserved.ts); this checks them on disk, where a
 * symlinked folder (`data -> ../elsewhere`) can lead anywhere. It runs before anything happens
 * (repro's plan, status) and again at each step, since a stage may make a symlink the next one
 * goes through.
 */
import { LatheError } from "../errors";
import { realPlace, resolveInside } from "../workspace";
import { depProblem, outputProblem, pipelineFiles, type PipelineFile } from "./reserved";
import { at, paramsUses, type PathEntry, type Pipeline, type Stage } from "./spec";

/** The fields whose paths the guard checks; outputs are outs, metrics and plots. */
export type PathField = "wdir" | "deps" | "outs" | "metrics" | "plots";

/** A path as the pipeline file wrote it, and where. */
type Written = Pick<PathEntry, "path" | "wsPath" | "pos">;

/** Checks one pipeline's paths on disk; made once per repro or status, used at every step. */
export class PathGuard {
  private readonly files: PipelineFile[];

  constructor(
    private readonly root: string,
    private readonly pipeline: Pick<Pipeline, "file" | "stages">,
  ) {
    this.files = pipelineFiles(paramsUses(pipeline.file, pipeline.stages));
  }

  /** Checks every path of the stage: its wdir, deps and outputs. */
  stage(stage: Stage): void {
    this.wdir(stage);
    stage.deps.forEach((d) => this.path(stage, "deps", d));
    stage.outs.forEach((o) => this.path(stage, "outs", o));
    stage.metrics.forEach((m) => this.path(stage, "metrics", m));
    stage.plots.forEach((p) => this.path(stage, "plots", p));
  }

  /** The stage's working directory, absolute, once checked. */
  wdir(stage: Stage): string {
    const wdir = { path: stage.wdir, wsPath: stage.wdir, pos: stage.pos };
    return stage.wdir ? this.path(stage, "wdir", wdir) : this.root;
  }

  /** An output of the stage (outs, metrics or plots), by its workspace path. */
  output(stage: Stage, out: PathEntry): string {
    const field = stage.metrics.includes(out)
      ? "metrics"
      : stage.plots.includes(out)
        ? "plots"
        : "outs";
    return this.path(stage, field, out);
  }

  /**
   * The absolute path of `entry`, or LATHE_FORBIDDEN naming it and the symlink when, followed,
   * it leaves the workspace, or (for deps and outputs) reaches ground the parser refuses as
   * written, such as `.lathe/` through `st -> .lathe`.
   */
  path(stage: Stage, field: PathField, entry: Written): string {
    const abs = resolveInside(this.root, entry.wsPath, `'${field}' path`);
    const place = realPlace(this.root, abs);
    const where = `${at(this.pipeline.file, entry.pos)}stage '${stage.name}': '${field}' path '${entry.path}'`;
    const data = { file: this.pipeline.file, stage: stage.name, field, path: entry.wsPath };
    if (!place.inside) {
      throw new LatheError(
        "LATHE_FORBIDDEN",
        `${where} leads outside the workspace through the symlink ${place.link} -> ${place.real}; Lathe does not delete, write or read outside ${this.root}`,
        { ...data, link: place.link, target: place.real },
      );
    }
    if (place.link === undefined || field === "wdir") {
      return abs;
    }
    const problem = field === "deps" ? depProblem(place.rel) : outputProblem(place.rel, this.files);
    if (problem) {
      throw new LatheError(
        "LATHE_FORBIDDEN",
        `${where} is really ${place.rel || "."} (through the symlink ${place.link}), which ${problem}`,
        { ...data, link: place.link, target: place.real },
      );
    }
    return abs;
  }
}
