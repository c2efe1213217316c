/**
 * How a deployment of `model@alias` follows its alias (#5). A deployment is planned again from its
 * target whenever the alias may have moved (a `models/changed` event) and whenever its worker is
 * restarted after a crash, so it serves what the alias names now, not what it named at deploy.
 * A split keeps its other version, unless the alias now names that version: the canary was
 * promoted, and the split collapses to it at 100%.
 */
import type { ServingOptions, TrafficShare } from "../../../schemas/api";
import type { Context } from "../context";
import { toLatheError, type LatheError } from "../errors";
import { parseTarget } from "../registry/target";
import { optionsOf, trafficOf, type DeploymentRow } from "./rows";
import { resolveDeployTarget } from "./target";

/** What a deploy asks the worker to serve. */
export interface Plan {
  model: string;
  target: string;
  traffic: TrafficShare[];
  options: ServingOptions;
}

/** A deployment whose target names an alias, which it follows. */
export function isFollowing(row: DeploymentRow): boolean {
  return row.target !== null && parseTarget(row.target).alias !== undefined;
}

/** The plan a deployment's row records: what its worker serves, or served before it crashed. */
export function planOf(row: DeploymentRow): Plan {
  return {
    model: row.model,
    target: row.target ?? row.model,
    traffic: trafficOf(row),
    options: optionsOf(row),
  };
}

/**
 * The plan of a following deployment with its alias resolved again. Throws what resolving
 * throws (LATHE_NOT_FOUND once the alias is removed).
 *
 * FIXME(#5): a split named by an alias (`--split weather@challenger:10`) keeps the version that
 * alias named at deploy; it should follow that alias too, which needs the split's target text
 * kept in the row beside its version.
 */
export function replan(ctx: Context, row: DeploymentRow): Plan {
  const plan = planOf(row);
  const main = resolveDeployTarget(ctx, plan.target).version;
  const other = plan.traffic[1];
  const traffic =
    other && other.version !== main
      ? [{ version: main, percent: 100 - other.percent }, other]
      : [{ version: main, percent: 100 }];
  return { ...plan, traffic };
}

/**
 * What a restart tries, in order: the re-planned traffic first, then (when it differs) what
 * served before the crash, so a version the alias moved to that cannot load does not keep the
 * deployment down. `error` is set when the alias no longer resolves.
 */
export function restartPlans(
  ctx: Context,
  row: DeploymentRow,
): { plans: Plan[]; error: string | null } {
  const before = planOf(row);
  if (!isFollowing(row)) {
    return { plans: [before], error: null };
  }
  let next: Plan;
  try {
    next = replan(ctx, row);
  } catch (err) {
    return { plans: [before], error: followError(row, undefined, toLatheError(err)) };
  }
  const plans = sameTraffic(next.traffic, before.traffic) ? [before] : [next, before];
  return { plans, error: null };
}

export function sameTraffic(a: TrafficShare[], b: TrafficShare[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A split whose alias moved to its other version: that version now takes all the traffic. */
export function isCollapse(before: TrafficShare[], after: TrafficShare[]): boolean {
  return before.length === 2 && after.length === 1 && after[0]!.version === before[1]!.version;
}

/**
 * The deployment's `error` when following failed: what the alias names (or that it names
 * nothing), why the switch failed, and what keeps serving.
 */
export function followError(row: DeploymentRow, plan: Plan | undefined, err: LatheError): string {
  const target = row.target ?? row.model;
  const why = err.message.replace(/\.$/, "");
  const serving = describeTraffic(trafficOf(row));
  return plan === undefined
    ? `${target} no longer names a version (${why}); ${serving} keeps serving.`
    : `${target} now names version ${plan.traffic[0]!.version}, but the deployment could not switch to it (${why}); ${serving} keeps serving.`;
}

function describeTraffic(traffic: TrafficShare[]): string {
  if (traffic.length === 1) {
    return `version ${traffic[0]!.version}`;
  }
  return `the split ${traffic.map((t) => `v${t.version} ${t.percent}%`).join(" / ")}`;
}
