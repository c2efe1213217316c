/**
 * What a deploy names: `name` (the latest version), `name@3` (a version) or `name@alias` (where
 * the alias points now). The registry owns the syntax (registry/target.ts parseTarget) and the
 * lookup; serving only needs the version itself.
 */
import type { ModelVersion } from "../../../schemas/api";
import type { Context } from "../context";
import { getVersion } from "../registry/models";
import { resolveTarget } from "../registry/target";

/** The model version a target names now; LATHE_NOT_FOUND lists what exists when it names none. */
export function resolveDeployTarget(ctx: Context, text: string): ModelVersion {
  const resolved = resolveTarget(ctx, text);
  return getVersion(ctx, resolved.model, resolved.version);
}
