/**
 * Each stage's state for its code lens (up to date, stale and why, never ran, frozen), with the
 * rules and messages of `lathe status --pipeline`: the same expansion of `${…}` and foreach/matrix
 * (daemon/src/pipeline/expand.ts), the same comparison with lathe.lock (staleReasons in
 * daemon/src/pipeline/lock.ts) and a stage downstream of a stale one stale too. No daemon is
 * asked: lathe.lock, params files and the deps and outs are read here, ids computed by
 * depState.ts and cached by each file's stat. A path too large to re-hash here is taken as
 * unchanged and named in `unchecked`.
 */
import { isMap, isScalar, isSeq, Pair, Scalar, type Node } from "yaml";
import type { StageReason } from "../../../schemas/api";
import { expandStage } from "../../../daemon/src/pipeline/expand";
import { staleReasons, type LockEntry, type StageState } from "../../../daemon/src/pipeline/lock";
import { lookup, type StageParams } from "../../../daemon/src/pipeline/params";
import type { Vars } from "../../../daemon/src/pipeline/template";
import { keyText, readStage, type StageInfo } from "./analysis";
import type { DocContext } from "./context";
import { IdReader, lockStages, type LockStages } from "./depState";
import { OutputIndex } from "./graph";
import { pipelineVars } from "./vars";

export interface StageStatus {
  /** The stage's name as `lathe repro` knows it (`fit@small` for a generated one). */
  name: string;
  state: "up-to-date" | "stale" | "frozen";
  /** Why it is stale, in `lathe status`'s words; empty when up to date. */
  reasons: StageReason[];
  /** Deps and outs too large to re-hash here, taken as unchanged. */
  unchecked: string[];
}

/** A stage as `lathe repro` would run it: `${…}` substituted, a foreach/matrix stage expanded. */
interface Resolved {
  name: string;
  info: StageInfo;
  cmd: string;
  env: Record<string, string>;
  isFrozen: boolean;
  isAlwaysChanged: boolean;
}

/**
 * The states of the stages each written stage stands for (one, or a foreach/matrix stage's
 * generated ones); a stage is missing when its state cannot be known here (no file on disk, a
 * `${…}` that does not resolve, a params key that does not exist: diagnostics say why).
 */
export function stageStatuses(ctx: DocContext): Map<StageInfo, StageStatus[]> {
  const result = new Map<StageInfo, StageStatus[]>();
  if (!ctx.files) {
    return result;
  }
  const root = ctx.files.root;
  const vars = pipelineVars(ctx);
  const resolved = new Map<StageInfo, Resolved[]>();
  for (const stage of ctx.model.stages) {
    const stages = resolve(ctx, stage, vars);
    if (stages) {
      resolved.set(stage, stages);
    }
  }
  const all = [...resolved.values()].flat();
  const byInfo = new Map(all.map((r) => [r.info, r]));
  const upstream = new OutputIndex(all.map((r) => r.info)).upstream();
  const lock = lockStages(root) ?? {};
  const ids = new IdReader(root);
  const done = new Map<Resolved, StageStatus | undefined>();
  const statusOf = (r: Resolved, visiting: Set<Resolved>): StageStatus | undefined => {
    if (done.has(r)) {
      return done.get(r);
    }
    visiting.add(r);
    const ups = [...(upstream.get(r.info) ?? [])].map((i) => byInfo.get(i)!);
    // A cycle has no order (diagnostics report it): its stages are compared on their own.
    const staleUps = ups
      .filter((u) => u !== r && !visiting.has(u) && statusOf(u, visiting)?.state === "stale")
      .map((u) => u.name);
    const status = compare(ctx, r, lock, ids, staleUps);
    visiting.delete(r);
    done.set(r, status);
    return status;
  };
  for (const [stage, stages] of resolved) {
    const statuses = stages.map((r) => statusOf(r, new Set()));
    if (statuses.every((s) => s !== undefined)) {
      result.set(stage, statuses);
    }
  }
  return result;
}

function resolve(ctx: DocContext, stage: StageInfo, vars: Vars): Resolved[] | undefined {
  const fail = (_node: unknown, message: string): never => {
    throw new Error(message);
  };
  const source = ctx.model.text.slice(stage.base);
  try {
    const pair = new Pair(new Scalar(stage.name), stage.value);
    const sources = expandStage(pair, stage.name, vars, source, fail);
    const stages: Resolved[] = [];
    for (const { name, body } of sources) {
      const info = readStage(new Pair(new Scalar(name), body), stage.base);
      const cmd = cmdOf(body);
      if (!info || cmd === undefined) {
        return undefined;
      }
      stages.push({
        name,
        info,
        cmd,
        env: envOf(body),
        isFrozen: flag(body, "frozen"),
        isAlwaysChanged: flag(body, "always_changed"),
      });
    }
    return stages;
  } catch {
    return undefined; // Unknown `${…}` or a bad foreach/matrix: diagnostics and hover say why.
  }
}

/** The stage compared with its lathe.lock entry, as `lathe status --pipeline` does. */
function compare(
  ctx: DocContext,
  stage: Resolved,
  lock: LockStages,
  ids: IdReader,
  staleUpstream: string[],
): StageStatus | undefined {
  const params = paramsOf(ctx, stage.info);
  if (!params) {
    return undefined;
  }
  const entry = lock[stage.name];
  const unchecked: string[] = [];
  const idOf = (path: string, locked: { path: string; oid: string }[] | undefined) => {
    const now = ids.id(path);
    if (now !== undefined) {
      return now;
    }
    unchecked.push(path);
    return locked?.find((p) => p.path === path)?.oid ?? null;
  };
  const paths = (refs: StageInfo["deps"]) =>
    refs.flatMap((r) => (r.wsPath === undefined ? [] : [r.wsPath]));
  const now: StageState = {
    cmd: stage.cmd,
    env: stage.env,
    deps: paths(stage.info.deps).map((path) => ({ path, oid: idOf(path, entry?.deps) ?? "" })),
    params,
    outs: paths(stage.info.outputs).map((path) => ({ path, oid: idOf(path, entry?.outs) })),
  };
  const reasons: StageReason[] = [
    ...(stage.isAlwaysChanged ? [alwaysChanged] : []),
    ...staleReasons(entry as LockEntry | undefined, now),
    ...staleUpstream.map((u): StageReason => ({
      kind: "upstream",
      subject: u,
      message: `upstream stage '${u}' is stale`,
    })),
  ];
  const state = stage.isFrozen ? "frozen" : reasons.length ? "stale" : "up-to-date";
  return { name: stage.name, state, reasons, unchecked: entry ? unchecked : [] };
}

const alwaysChanged: StageReason = {
  kind: "always-changed",
  message: "always_changed: runs on every repro",
};

/** The stage's params with their values now; undefined when a file or key is missing. */
function paramsOf(ctx: DocContext, info: StageInfo): StageParams | undefined {
  const params: StageParams = {};
  for (const ref of info.params) {
    const value = lookup(ctx.files!.paramsFile(ref.file)?.data, ref.key);
    if (value === undefined) {
      return undefined;
    }
    (params[ref.file] ??= {})[ref.key] = value;
  }
  return params;
}

function field(body: Node | null, name: string): Node | null | undefined {
  return isMap(body) ? (body.items.find((p) => keyText(p) === name)?.value as Node | null) : null;
}

/** `cmd`, a list joined with ` && ` as the engine runs it. */
function cmdOf(body: Node | null): string | undefined {
  const cmd = field(body, "cmd");
  if (isScalar(cmd) && typeof cmd.value === "string") {
    return cmd.value;
  }
  if (isSeq(cmd) && cmd.items.every((i) => isScalar(i) && typeof i.value === "string")) {
    return cmd.items.map((i) => (i as Scalar<string>).value).join(" && ");
  }
  return undefined;
}

function envOf(body: Node | null): Record<string, string> {
  const env = field(body, "env");
  const out: Record<string, string> = {};
  for (const pair of isMap(env) ? env.items : []) {
    const name = keyText(pair);
    if (name !== undefined && isScalar(pair.value)) {
      out[name] = String(pair.value.value);
    }
  }
  return out;
}

function flag(body: Node | null, name: string): boolean {
  const value = field(body, name);
  return isScalar(value) && value.value === true;
}
