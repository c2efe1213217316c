/**
 * The stage graph: a stage depends on the stage whose out equals, contains or lies inside one of
 * its deps. Gives a topological order (file order among equals) and rejects cycles and
 * overlapping outs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LatheError } from "../errors";
import { at, stageOutputs, type PathEntry, type Pipeline, type Stage } from "./spec";

export interface Dag {
  pipeline: Pipeline;
  /** Every stage, upstream before downstream. */
  order: Stage[];
  /** Direct upstream stage names of each stage. */
  upstream: Map<string, Set<string>>;
  /** The stage (and out) producing a dep, by stage name and dep path. */
  producers: Map<string, Map<string, string>>;
}

/** True when one path is the other or lies inside it (workspace-relative, forward slashes). */
export function overlaps(a: string, b: string): boolean {
  return a === b || a === "." || b === "." || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

export function buildDag(pipeline: Pipeline): Dag {
  checkOuts(pipeline);
  const upstream = new Map<string, Set<string>>();
  const producers = new Map<string, Map<string, string>>();
  for (const stage of pipeline.stages) {
    const ups = new Set<string>();
    const byDep = new Map<string, string>();
    for (const dep of stage.deps) {
      const producer = producerOf(pipeline, dep.wsPath, stage.name);
      if (producer) {
        ups.add(producer.name);
        byDep.set(dep.wsPath, producer.name);
      }
    }
    upstream.set(stage.name, ups);
    producers.set(stage.name, byDep);
  }
  return { pipeline, order: topoOrder(pipeline, upstream), upstream, producers };
}

function producerOf(pipeline: Pipeline, path: string, self: string): Stage | undefined {
  return pipeline.stages.find(
    (s) => s.name !== self && stageOutputs(s).some((out) => overlaps(out.wsPath, path)),
  );
}

/** Two stages may not write the same path, or one inside the other's. */
function checkOuts(pipeline: Pipeline): void {
  const seen: { stage: Stage; out: PathEntry }[] = [];
  for (const stage of pipeline.stages) {
    for (const out of stageOutputs(stage)) {
      const clash = seen.find((s) => s.stage !== stage && overlaps(s.out.wsPath, out.wsPath));
      if (clash) {
        throw new LatheError(
          "LATHE_BAD_FILE",
          `${at(pipeline.file, out.pos)}stages '${clash.stage.name}' and '${stage.name}' both write ${clash.out.wsPath === out.wsPath ? out.wsPath : `${clash.out.wsPath} and ${out.wsPath}, which overlap`}; a path has one producing stage`,
          { file: pipeline.file, stages: [clash.stage.name, stage.name], path: out.wsPath },
        );
      }
      seen.push({ stage, out });
    }
  }
}

/** Kahn's algorithm, taking ready stages in file order; a leftover means a cycle. */
function topoOrder(pipeline: Pipeline, upstream: Map<string, Set<string>>): Stage[] {
  const done = new Set<string>();
  const order: Stage[] = [];
  while (order.length < pipeline.stages.length) {
    const ready = pipeline.stages.find(
      (s) => !done.has(s.name) && [...upstream.get(s.name)!].every((u) => done.has(u)),
    );
    if (!ready) {
      throw cycleError(pipeline, upstream, done);
    }
    done.add(ready.name);
    order.push(ready);
  }
  return order;
}

function cycleError(
  pipeline: Pipeline,
  upstream: Map<string, Set<string>>,
  done: Set<string>,
): LatheError {
  // Every stage left has an upstream stage that is left too, so walking upstream must repeat.
  const start = pipeline.stages.find((s) => !done.has(s.name))!;
  const path: string[] = [];
  let name = start.name;
  while (!path.includes(name)) {
    path.push(name);
    name = [...upstream.get(name)!].find((u) => !done.has(u))!;
  }
  const cycle = [...path.slice(path.indexOf(name)), name].reverse();
  const first = pipeline.stages.find((s) => s.name === cycle[0])!;
  return new LatheError(
    "LATHE_BAD_FILE",
    `${at(pipeline.file, first.pos)}the stages form a cycle: ${cycle.join(" -> ")}; a stage cannot depend on its own outputs`,
    { file: pipeline.file, stages: cycle.slice(0, -1) },
  );
}

/**
 * The named stages and everything upstream of them, in order; all stages when none are named.
 * With `downstream`, the named stages and everything that depends on them instead (dvc's
 * `--downstream`): their upstream is taken as it is.
 * A foreach or matrix group's name (`train` for `train@a`, `train@b`) names all its stages.
 */
export function selectStages(dag: Dag, names: string[] | undefined, downstream = false): Stage[] {
  if (!names || names.length === 0) {
    return dag.order;
  }
  const known = dag.order.map((s) => s.name);
  const wanted = new Set<string>();
  const next = downstream ? dependants(dag) : dag.upstream;
  const visit = (name: string) => {
    if (!wanted.has(name)) {
      wanted.add(name);
      next.get(name)!.forEach(visit);
    }
  };
  for (const name of names) {
    // A foreach or matrix stage's written name selects every stage it generates.
    const generated = dag.order.filter((s) => s.group === name && !known.includes(name));
    if (generated.length > 0) {
      generated.forEach((s) => visit(s.name));
      continue;
    }
    if (!known.includes(name)) {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `No stage '${name}' in ${dag.pipeline.file}; its stages: ${known.join(", ")}`,
        { stage: name, stages: known },
      );
    }
    visit(name);
  }
  return dag.order.filter((s) => wanted.has(s.name));
}

/**
 * Refuses a dep that is neither on disk nor produced by a stage, and a wdir that does not exist,
 * before anything runs. `exists` says whether a workspace path exists (the language server passes
 * its own view of the disk).
 */
export function checkDepsExist(
  root: string,
  dag: Dag,
  stages: Stage[],
  exists: (wsPath: string) => boolean = (wsPath) => existsSync(join(root, wsPath)),
): void {
  for (const stage of stages) {
    const [first] = stageFileProblems(dag, stage, exists);
    if (first) {
      throw first;
    }
  }
}

/** Every error checkDepsExist would give for the stage: its wdir, then each dep in order. */
export function stageFileProblems(
  dag: Dag,
  stage: Stage,
  exists: (wsPath: string) => boolean,
): LatheError[] {
  const file = dag.pipeline.file;
  const problems: LatheError[] = [];
  if (stage.wdir && !exists(stage.wdir)) {
    problems.push(
      new LatheError(
        "LATHE_BAD_INPUT",
        `${at(file, stage.pos)}stage '${stage.name}' has wdir '${stage.wdir}', which does not exist`,
        { file, stage: stage.name, path: stage.wdir },
      ),
    );
  }
  for (const dep of stage.deps) {
    const produced = dag.producers.get(stage.name)!.has(dep.wsPath);
    const reason = produced ? undefined : missingDepReason(stage.name, dep.wsPath, exists);
    if (reason) {
      problems.push(
        new LatheError("LATHE_BAD_INPUT", `${at(file, dep.pos)}${reason.message}`, {
          file,
          stage: stage.name,
          path: dep.wsPath,
          ...reason.data,
        }),
      );
    }
  }
  return problems;
}

/**
 * Why a dep no stage produces cannot be read, or undefined when it is on disk: it does not exist,
 * or only a pointer to it does (Lathe's `.lathe`, to check out; dvc's `.dvc`, which Lathe does
 * not read).
 */
export function missingDepReason(
  stage: string,
  wsPath: string,
  exists: (wsPath: string) => boolean,
): { message: string; data: Record<string, string> } | undefined {
  if (exists(wsPath)) {
    return undefined;
  }
  const lathePointer = `${wsPath}.lathe`;
  if (exists(lathePointer)) {
    return {
      message: `stage '${stage}' depends on ${wsPath}, which is versioned (${lathePointer}) but not checked out: run 'lathe checkout ${wsPath}'`,
      data: { pointer: lathePointer },
    };
  }
  const dvcPointer = `${wsPath}.dvc`;
  if (exists(dvcPointer)) {
    return {
      message: `stage '${stage}' depends on ${wsPath}, which is tracked by DVC (${dvcPointer}) and not checked out; Lathe does not read .dvc pointer files: run 'dvc pull ${wsPath}', then 'lathe add ${wsPath}'`,
      data: { pointer: dvcPointer },
    };
  }
  return {
    message: `stage '${stage}' depends on ${wsPath}, which does not exist and no stage produces; run 'lathe add ${wsPath}' or fix deps`,
    data: {},
  };
}

/** The direct dependants of each stage: `upstream` turned around. */
function dependants(dag: Dag): Map<string, Set<string>> {
  const down = new Map<string, Set<string>>(dag.order.map((s) => [s.name, new Set<string>()]));
  for (const [name, ups] of dag.upstream) {
    ups.forEach((u) => down.get(u)!.add(name));
  }
  return down;
}
