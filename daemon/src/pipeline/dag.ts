/**
 * The stage graph: a stage depends on the stage whose out equals, contains or lies inside one of
 * its deps. Gives a topological order (file order among equals) and rejects cycles and
 * overlapping outs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { POINTER_SUFFIX } from "../data/pointer";
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
  const outputs = checkOuts(pipeline);
  const upstream = new Map<string, Set<string>>();
  const producers = new Map<string, Map<string, string>>();
  for (const stage of pipeline.stages) {
    const ups = new Set<string>();
    const byDep = new Map<string, string>();
    for (const dep of stage.deps) {
      checkNotOwnOutput(pipeline, stage, dep);
      // The first stage in file order writing a path that overlaps the dep.
      const producer = outputs.overlapping(dep.wsPath).find((o) => o.stage.name !== stage.name);
      if (producer) {
        ups.add(producer.stage.name);
        byDep.set(dep.wsPath, producer.stage.name);
      }
    }
    upstream.set(stage.name, ups);
    producers.set(stage.name, byDep);
  }
  return { pipeline, order: topoOrder(pipeline, upstream), upstream, producers };
}

/**
 * A dep that is (or holds, or lies inside) one of the stage's own outputs is a cycle of one: the
 * stage would delete its input before running and be stale again after every run.
 */
function checkNotOwnOutput(pipeline: Pipeline, stage: Stage, dep: PathEntry): void {
  const own = stageOutputs(stage).find((out) => overlaps(out.wsPath, dep.wsPath));
  if (own) {
    const what =
      own.wsPath === dep.wsPath ? dep.wsPath : `${dep.wsPath} (it overlaps ${own.wsPath})`;
    throw new LatheError(
      "LATHE_BAD_FILE",
      `${at(pipeline.file, dep.pos)}the stages form a cycle: ${stage.name} -> ${stage.name}; stage '${stage.name}' depends on its own output ${what}`,
      { file: pipeline.file, stages: [stage.name], path: dep.wsPath },
    );
  }
}

/** Two stages may not write the same path, or one inside the other's. */
function checkOuts(pipeline: Pipeline): OutputIndex {
  const seen = new OutputIndex();
  for (const stage of pipeline.stages) {
    for (const out of stageOutputs(stage)) {
      const clash = seen.overlapping(out.wsPath).find((s) => s.stage !== stage);
      if (clash) {
        throw new LatheError(
          "LATHE_BAD_FILE",
          `${at(pipeline.file, out.pos)}stages '${clash.stage.name}' and '${stage.name}' both write ${clash.out.wsPath === out.wsPath ? out.wsPath : `${clash.out.wsPath} and ${out.wsPath}, which overlap`}; a path has one producing stage`,
          { file: pipeline.file, stages: [clash.stage.name, stage.name], path: out.wsPath },
        );
      }
      seen.add(stage, out);
    }
  }
  return seen;
}

interface Output {
  stage: Stage;
  out: PathEntry;
  /** Order of adding: file order of the stages, then of their outputs. */
  seq: number;
}

/**
 * Outputs by path, so that finding those that overlap a path costs a few lookups instead of a
 * comparison with every output (a 500-stage pipeline is checked on every edit in the editor).
 */
class OutputIndex {
  private readonly all: Output[] = [];
  private readonly byPath = new Map<string, Output[]>();
  /** Folder → the outputs strictly inside it. */
  private readonly inside = new Map<string, Output[]>();

  add(stage: Stage, out: PathEntry): void {
    const output = { stage, out, seq: this.all.length };
    this.all.push(output);
    push(this.byPath, out.wsPath, output);
    for (const dir of ancestors(out.wsPath)) {
      push(this.inside, dir, output);
    }
  }

  /** The outputs that equal, contain or lie inside `path` (overlaps()), in the order added. */
  overlapping(path: string): Output[] {
    if (path === ".") {
      return this.all;
    }
    const found = [
      ...(this.byPath.get(path) ?? []),
      ...(this.inside.get(path) ?? []),
      ...(this.byPath.get(".") ?? []),
      ...ancestors(path).flatMap((dir) => this.byPath.get(dir) ?? []),
    ];
    return found.sort((a, b) => a.seq - b.seq);
  }
}

/** Appends to the list under `key`, making it when absent. */
export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) {
    list.push(value);
  } else {
    map.set(key, [value]);
  }
}

/** `a/b/c` → `a/b`, `a` (not "."). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
    out.push(path.slice(0, i));
  }
  return out;
}

/** Kahn's algorithm, taking ready stages in file order; a leftover means a cycle. */
function topoOrder(pipeline: Pipeline, upstream: Map<string, Set<string>>): Stage[] {
  const stages = pipeline.stages;
  const index = new Map(stages.map((s, i) => [s.name, i]));
  const waiting = stages.map((s) => upstream.get(s.name)!.size);
  const dependants = stages.map((): number[] => []);
  stages.forEach((s, i) =>
    upstream.get(s.name)!.forEach((u) => dependants[index.get(u)!]!.push(i)),
  );
  // Ready stages by file index, the first last (taken with pop()).
  const ready = waiting.flatMap((n, i) => (n === 0 ? [i] : [])).reverse();
  const done = new Set<string>();
  const order: Stage[] = [];
  while (ready.length > 0) {
    const stage = stages[ready.pop()!]!;
    done.add(stage.name);
    order.push(stage);
    for (const d of dependants[index.get(stage.name)!]!) {
      if (--waiting[d]! === 0) {
        let at = ready.length;
        while (at > 0 && ready[at - 1]! < d) {
          at--;
        }
        ready.splice(at, 0, d);
      }
    }
  }
  if (order.length < stages.length) {
    throw cycleError(pipeline, upstream, done);
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
  const versioned = versionedAs(wsPath, exists);
  if (versioned) {
    const pointer = `${versioned}${POINTER_SUFFIX}`;
    return {
      message: `stage '${stage}' depends on ${wsPath}, which is versioned (${pointer}) but not in the workspace; run 'lathe checkout ${versioned}' to restore it`,
      data: { pointer },
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

/**
 * The path whose Lathe pointer versions `wsPath`: the path itself (`data/a.csv.lathe`) or the
 * nearest folder holding it (`data.lathe`); undefined when none does.
 */
function versionedAs(wsPath: string, exists: (wsPath: string) => boolean): string | undefined {
  const parts = wsPath.split("/");
  for (let n = parts.length; n > 0; n--) {
    const path = parts.slice(0, n).join("/");
    if (exists(`${path}${POINTER_SUFFIX}`)) {
      return path;
    }
  }
  return undefined;
}

/** The direct dependants of each stage: `upstream` turned around. */
function dependants(dag: Dag): Map<string, Set<string>> {
  const down = new Map<string, Set<string>>(dag.order.map((s) => [s.name, new Set<string>()]));
  for (const [name, ups] of dag.upstream) {
    ups.forEach((u) => down.get(u)!.add(name));
  }
  return down;
}
