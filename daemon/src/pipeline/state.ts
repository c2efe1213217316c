/**
 * What a stage would run with now (cmd, dep ids, param values, out ids), and the run-cache key
 * of those inputs. Shared by `lathe repro` and `lathe status --pipeline`.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { HashCache } from "./hashcache";
import type { StageState } from "./lock";
import type { StageParams } from "./params";
import { stageOutputs, type Stage } from "./spec";

/**
 * Ids of deps and outs as they are now; a path that does not exist gets a null id. Callers check
 * the stage's paths with PathGuard first, so nothing is hashed outside the workspace.
 */
export async function currentState(
  root: string,
  hashes: HashCache,
  stage: Stage,
  params: StageParams,
): Promise<StageState> {
  const idOf = async (path: string) => {
    const abs = join(root, path);
    return { path, oid: existsSync(abs) ? (await hashes.hashPath(abs)).oid : null };
  };
  const deps = await Promise.all(stage.deps.map((d) => idOf(d.wsPath)));
  const outs = await Promise.all(stageOutputs(stage).map((o) => idOf(o.wsPath)));
  return {
    cmd: stage.cmd,
    env: stage.env,
    deps: deps.map((d) => ({ path: d.path, oid: d.oid ?? "" })),
    params,
    outs,
  };
}

/**
 * The run-cache key: a SHA-256 over the cmd, each dep's path and id, each param's value and the
 * declared output paths (with their cache flags). Two runs with the same key had the same inputs.
 * The stage's name is left out, as in dvc: a renamed stage still finds its runs.
 */
export function runCacheKey(stage: Stage, state: StageState): string {
  const deps = [...state.deps].sort((a, b) => a.path.localeCompare(b.path));
  const params = Object.entries(state.params)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([file, values]) => [file, Object.entries(values).sort(([a], [b]) => a.localeCompare(b))]);
  const outs = stageOutputs(stage)
    .map((o) => [o.wsPath, o.cache])
    .sort();
  // `env` joins the key only when set, so keys of stages without one stay as they were.
  const env = Object.keys(state.env).length ? { env: state.env } : {};
  const text = JSON.stringify({ cmd: state.cmd, ...env, wdir: stage.wdir, deps, params, outs });
  return createHash("sha256").update(text).digest("hex");
}
