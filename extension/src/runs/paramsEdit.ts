/**
 * Writing edited params back into their params files before a re-run, pure (no vscode): a run's
 * param key is `a.b` for the stage's params.yaml and `file:a.b` for another file (as the daemon
 * records them, daemon/src/pipeline/params.ts). Comments and layout of the file are kept.
 */
import { posix } from "node:path";
import { isCollection, isScalar, parse, parseDocument } from "yaml";
import { LatheError } from "../../../daemon/src/errors";
import { lookup, paramText } from "../../../daemon/src/pipeline/params";
import { notValidYaml } from "../../../daemon/src/pipeline/spec";

/** One value to write into a params file. */
export interface ParamEdit {
  /** The dotted key inside the file, split. */
  path: string[];
  /** The key as the run records it (`a.b` or `file.yaml:a.b`), for messages. */
  key: string;
  /** YAML text as typed (`0.01`, `true`, `[1, 2]`, `text`), or the string itself if `literal`. */
  value: string;
  /** Write `value` as a YAML string, unparsed: a recorded value that YAML would read otherwise. */
  literal?: boolean;
  /** The file lacks the key: it is added (a declared param restored), not refused. */
  create?: boolean;
}

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
 * The params file's text with `edits` applied; every path must already exist in the file (unless
 * the edit says `create`), or the edit is refused naming the file and key.
 */
export function applyParamEdits(file: string, text: string, edits: ParamEdit[]): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw notValidYaml(file, doc.errors[0]);
  }
  for (const edit of edits) {
    if (!edit.create && !doc.hasIn(edit.path)) {
      throw new LatheError("LATHE_BAD_INPUT", `${file} has no param '${edit.path.join(".")}'.`, {
        file,
        key: edit.key,
      });
    }
    const parsed = edit.literal ? edit.value : parseParamValue(edit.value, edit.key);
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

/** The files a stage's declared params live in (unprefixed keys in `defaultFile`), in order. */
export function paramsFiles(declared: string[], defaultFile = DEFAULT_PARAMS_FILE): string[] {
  return [...new Set(declared.map((key) => paramLocation(key, defaultFile).file))];
}

/** What a re-run of a stage run writes into the params files, and why. */
export interface RerunPlan {
  /** The edits per params file, for applyParamEdits; empty when the files already match. */
  byFile: Map<string, ParamEdit[]>;
  /** Declared params the user changed: the run's value (null: it recorded none) and the new one. */
  edited: { key: string; run: string | null; value: string }[];
  /**
   * Declared params the user left alone whose value in the file now differs from the run's
   * (`current` null: the file lacks the key): the run's value is written back.
   */
  restored: { key: string; file: string; current: string | null; run: string }[];
  /** Declared params the run did not record (declared since it ran): the file's value stays. */
  unrecorded: { key: string; current: string | null }[];
}

export interface RerunInput {
  /** The params lathe.yaml declares for the stage now (PipelineDag's `params`). */
  declared: string[];
  /** What the run recorded. */
  runParams: Record<string, string>;
  /** Key → the YAML text the user typed, for the params they changed. */
  edits: Record<string, string>;
  /** Each params file's current text (undefined: it does not exist). */
  files: Map<string, string | undefined>;
  /** The stage's own params file (`<wdir>/params.yaml`). */
  defaultFile?: string;
}

/**
 * The re-run of a run with `edits`: every declared param gets the run's recorded value, or the
 * edited one, so the new run differs from the old one only by the edits. Only values that differ
 * from the files are written (the rest keep their formatting), and the ones that differed
 * without being edited are listed so the user is told. Keys the stage does not declare (a
 * script's own logged params) are not written.
 */
export function planRerun(input: RerunInput): RerunPlan {
  const defaultFile = input.defaultFile ?? DEFAULT_PARAMS_FILE;
  const data = new Map<string, unknown>();
  const plan: RerunPlan = { byFile: new Map(), edited: [], restored: [], unrecorded: [] };
  const add = (file: string, edit: ParamEdit) =>
    plan.byFile.set(file, [...(plan.byFile.get(file) ?? []), edit]);

  for (const key of input.declared) {
    const { file, path } = paramLocation(key, defaultFile);
    const current = lookup(parsedFile(file, input.files, data), path.join("."));
    const currentText = current === undefined ? null : paramText(current);
    const recorded = Object.hasOwn(input.runParams, key) ? input.runParams[key]! : null;

    if (Object.hasOwn(input.edits, key)) {
      const value = input.edits[key]!;
      plan.edited.push({ key, run: recorded, value });
      add(file, { path, key, value, create: current === undefined });
    } else if (recorded === null) {
      plan.unrecorded.push({ key, current: currentText });
    } else if (currentText !== recorded) {
      plan.restored.push({ key, file, current: currentText, run: recorded });
      add(file, { path, key, ...recordedValue(recorded, current), create: current === undefined });
    }
  }
  return plan;
}

/** A file's parsed data, read once; a missing or broken file is refused naming it. */
function parsedFile(
  file: string,
  files: Map<string, string | undefined>,
  cache: Map<string, unknown>,
): unknown {
  if (cache.has(file)) {
    return cache.get(file);
  }
  const text = files.get(file);
  if (text === undefined) {
    throw new LatheError("LATHE_BAD_INPUT", `The params file ${file} does not exist.`, { file });
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw notValidYaml(file, doc.errors[0]);
  }
  const data: unknown = doc.toJS();
  cache.set(file, data);
  return data;
}

/**
 * How a recorded value (text: scalars as written, lists and mappings as JSON) goes back into
 * YAML so that the daemon records the same text again: read as YAML when that gives the same
 * text (`0.01`, `true`, `[1,2]`), else as a string (`1.10`, `""`, `a: b`). A key that holds a
 * string now stays a string (`"0.5"` is not turned into a number).
 */
function recordedValue(recorded: string, current: unknown): { value: string; literal?: true } {
  if (typeof current === "string") {
    return { value: recorded, literal: true };
  }
  try {
    if (paramText(parse(recorded) as unknown) === recorded) {
      return { value: recorded };
    }
  } catch {
    // Not YAML at all (`[1,`): it was a string.
  }
  return { value: recorded, literal: true };
}

/** "train.lr: 0.01 (params.yaml has 0.1)": a restored param, for the confirmation and the log. */
export function restoredText(r: RerunPlan["restored"][number]): string {
  const now = r.current === null ? `${r.file} lacks it` : `${r.file} has ${r.current}`;
  return `${r.key}: ${r.run} (${now})`;
}
