/**
 * What a deploy names: `name` (the latest version), `name@3` (a version) or `name@alias`.
 */
import type { ModelVersion } from "../../../schemas/api";
import type { Context } from "../context";
import { LatheError } from "../errors";
import { checkModelName, getModel, getVersion } from "../registry/models";

export interface DeployTarget {
  model: string;
  /** The version number, or the alias it was reached through. */
  version?: number;
  alias?: string;
}

/** Splits `name[@version|@alias]`; LATHE_BAD_INPUT naming the text when it is neither. */
export function parseTarget(text: string): DeployTarget {
  const at = text.indexOf("@");
  const model = at < 0 ? text : text.slice(0, at);
  const suffix = at < 0 ? undefined : text.slice(at + 1);
  checkModelName(model);
  if (suffix === undefined) {
    return { model };
  }
  if (/^[1-9][0-9]*$/.test(suffix)) {
    return { model, version: Number(suffix) };
  }
  if (!/^[A-Za-z][A-Za-z0-9._-]*$/.test(suffix)) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${text}' is not a deploy target; expected 'name', 'name@<version number>' or 'name@<alias>'.`,
      { target: text },
    );
  }
  return { model, alias: suffix };
}

/**
 * The model version a target names now.
 * FIXME(#5): use registry resolveTarget and follow alias moves (models/changed); this branch has
 * no aliases yet, so `name@alias` is always "no such alias".
 */
export function resolveDeployTarget(ctx: Context, text: string): ModelVersion {
  const target = parseTarget(text);
  if (target.alias !== undefined) {
    getModel(ctx, target.model); // An unknown model is reported as such first.
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `Model '${target.model}' has no alias '${target.alias}'.`,
      { model: target.model, alias: target.alias },
    );
  }
  return getVersion(ctx, target.model, target.version);
}
