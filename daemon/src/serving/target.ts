/**
 * What a deploy names: `name` (the latest version), `name@3` (a version) or `name@alias` (where
 * the alias points now). The registry owns the syntax and the lookup; serving only needs the
 * version itself.
 */
import type { ModelVersion } from "../../../schemas/api";
import type { Context } from "../context";
import { getVersion } from "../registry/models";
import { parseTarget as parseRegistryTarget, resolveTarget } from "../registry/target";

export interface DeployTarget {
  model: string;
  /** The version number, or the alias it was reached through. */
  version?: number;
  alias?: string;
}

/** Splits `name[@version|@alias]`; LATHE_BAD_INPUT naming the text when it is neither. */
export function parseTarget(text: string): DeployTarget {
  return parseRegistryTarget(text);
}

/** The model version a target names now; LATHE_NOT_FOUND lists what exists when it names none. */
export function resolveDeployTarget(ctx: Context, text: string): ModelVersion {
  const resolved = resolveTarget(ctx, text);
  return getVersion(ctx, resolved.model, resolved.version);
}
