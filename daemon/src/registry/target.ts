/**
 * Naming a version: `name` (its latest version), `name@3` (version 3) or `name@champion` (where
 * the alias points now). Serving calls resolveTarget to deploy an alias and again, on a
 * `models/changed` event carrying an alias move, to follow it; the CLI parses the same forms.
 */
import type { ResolvedTarget } from "../../../schemas/registry";
import type { Context } from "../context";
import { LatheError } from "../errors";
import { checkAliasName, requireAlias } from "./aliases";
import { checkModelName, getVersion } from "./models";

export interface TargetSpec {
  model: string;
  version?: number;
  alias?: string;
}

/** Parses `name`, `name@3` or `name@alias` without looking anything up. */
export function parseTarget(spec: string): TargetSpec {
  const at = spec.lastIndexOf("@");
  const model = at < 0 ? spec : spec.slice(0, at);
  const rest = at < 0 ? undefined : spec.slice(at + 1);
  if (!model || rest === "") {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${spec}' names no model version: use <model>, <model>@<version> or <model>@<alias>, e.g. weather-model@champion.`,
      { spec },
    );
  }
  checkModelName(model);
  if (rest === undefined) {
    return { model };
  }
  // `@3` and `@v3` both name version 3 (aliases may not look like v<number> for this reason).
  if (/^[vV]?\d+$/.test(rest)) {
    const version = Number(rest.replace(/^[vV]/, ""));
    if (version < 1) {
      throw new LatheError("LATHE_BAD_INPUT", `'${spec}': versions start at 1.`, { spec });
    }
    return { model, version };
  }
  checkAliasName(rest);
  return { model, alias: rest };
}

/**
 * The version a target names right now. LATHE_BAD_INPUT for a malformed target, LATHE_NOT_FOUND
 * for an unknown model, version or alias (the message lists what exists).
 */
export function resolveTarget(ctx: Context, target: string): ResolvedTarget {
  const spec = parseTarget(target);
  if (spec.alias !== undefined) {
    const version = requireAlias(ctx, spec.model, spec.alias);
    return { model: spec.model, version, alias: spec.alias };
  }
  const found = getVersion(ctx, spec.model, spec.version);
  return { model: spec.model, version: found.version, alias: null };
}
