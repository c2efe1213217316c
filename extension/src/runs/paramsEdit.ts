/**
 * Writing edited params back into their params files before a re-run, pure (no vscode): a run's
 * param key is `a.b` for the stage's params.yaml and `file:a.b` for another file (as the daemon
 * records them, daemon/src/pipeline/params.ts). Comments and layout of the file are kept.
 */
import { posix } from "node:path";
import { isCollection, isScalar, parse, parseDocument } from "yaml";
import { LatheError } from "../../../daemon/src/errors";
import { notValidYaml } from "../../../daemon/src/pipeline/spec";

export const DEFAULT_PARAMS_FILE = "params.yaml";

/**
 * The params file a stage's unprefixed keys live in: params.yaml in its `wdir` (the daemon
 * records those keys without their file, and a prefixed key's file is workspace-relative).
 */
export function stageParamsFile(wdir: string): string {
  return posix.join(wdir || ".", DEFAULT_PARAMS_FILE);
}

/**
 * `train.lr` → the stage's params file (params.yaml at the root by default), ["train","lr"];
 * `conf/x.yaml:model.depth` → conf/x.yaml, [...].
 */
export function paramLocation(
  key: string,
  defaultFile = DEFAULT_PARAMS_FILE,
): { file: string; path: string[] } {
  const colon = key.indexOf(":");
  const prefixed = colon > 0 && /\.(ya?ml|json)$/i.test(key.slice(0, colon));
  const file = prefixed ? key.slice(0, colon) : defaultFile;
  const dotted = prefixed ? key.slice(colon + 1) : key;
  return { file, path: dotted.split(".") };
}

/** A typed value as YAML reads it: "0.01" → 0.01, "true" → true, "[1, 2]" → [1, 2], "abc" → "abc". */
export function parseParamValue(text: string, key: string): unknown {
  try {
    return parse(text) as unknown;
  } catch (err) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `The value for ${key} is not valid YAML: ${(err as Error).message.split("\n")[0]}`,
      { key, value: text },
    );
  }
}

/**
 * The params file's text with `edits` (dotted path → new text) applied; every path must already
 * exist in the file, or the edit is refused naming the file and key.
 */
export function applyParamEdits(
  file: string,
  text: string,
  edits: { path: string[]; key: string; value: string }[],
): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw notValidYaml(file, doc.errors[0]);
  }
  for (const edit of edits) {
    if (!doc.hasIn(edit.path)) {
      throw new LatheError("LATHE_BAD_INPUT", `${file} has no param '${edit.path.join(".")}'.`, {
        file,
        key: edit.key,
      });
    }
    const parsed = parseParamValue(edit.value, edit.key);
    const old = doc.getIn(edit.path, true);
    const value = doc.createNode(parsed);
    if (isScalar(old) && isScalar(value)) {
      old.value = value.value; // keeps the comment beside it
      continue;
    }
    if (isCollection(value) && isCollection(old)) {
      value.flow = old.flow ?? false; // `[2012, 2013]` stays on one line
      value.comment = old.comment;
    }
    doc.setIn(edit.path, value);
  }
  return doc.toString();
}

/** The edits that change something, grouped by file (unprefixed keys in `defaultFile`). */
export function changedParams(
  before: Record<string, string>,
  after: Record<string, string>,
  defaultFile = DEFAULT_PARAMS_FILE,
): Map<string, { path: string[]; key: string; value: string }[]> {
  const byFile = new Map<string, { path: string[]; key: string; value: string }[]>();
  for (const [key, value] of Object.entries(after)) {
    if (before[key] === value) {
      continue;
    }
    const { file, path } = paramLocation(key, defaultFile);
    byFile.set(file, [...(byFile.get(file) ?? []), { path, key, value }]);
  }
  return byFile;
}
