/**
 * Stage parameters: dotted keys (`train.lr`) into params files (params.yaml by default, any YAML
 * or JSON file when named). Files are read once per repro through a ParamsReader.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { LatheError } from "../errors";
import { cachedParse } from "./parsecache";
import { at, notValidYaml, type Pipeline, type Stage } from "./spec";

/** The values of a stage's params, grouped by file: `{ "params.yaml": { "train.lr": 0.1 } }`. */
export type StageParams = Record<string, Record<string, unknown>>;

export class ParamsReader {
  private readonly files = new Map<string, unknown>();

  constructor(private readonly root: string) {}

  /** Every param of the stage, or an error naming lathe.yaml's line, the params file and key. */
  forStage(pipeline: Pipeline, stage: Stage): StageParams {
    const result: StageParams = {};
    for (const entry of stage.params) {
      const where = `${at(pipeline.file, entry.pos)}stage '${stage.name}': `;
      const data = this.file(entry.file, where);
      const value = lookup(data, entry.key);
      if (value === undefined) {
        throw new LatheError(
          "LATHE_BAD_INPUT",
          `${where}param '${entry.key}' is not in ${entry.file}; add it there or fix 'params'`,
          { file: entry.file, key: entry.key, stage: stage.name },
        );
      }
      (result[entry.file] ??= {})[entry.key] = value;
    }
    return result;
  }

  private file(file: string, where: string): unknown {
    if (this.files.has(file)) {
      return this.files.get(file);
    }
    const abs = join(this.root, file);
    if (!existsSync(abs)) {
      throw new LatheError("LATHE_BAD_INPUT", `${where}params file ${file} does not exist`, {
        file,
      });
    }
    let data: unknown;
    try {
      data = cachedParse(
        this.root,
        `params:${file}`,
        [abs],
        () => parse(readFileSync(abs, "utf8")) as unknown,
      );
    } catch (err) {
      throw notValidYaml(file, err);
    }
    this.files.set(file, data);
    return data;
  }
}

/** `a.b.c` into nested mappings; undefined when any step is missing. */
export function lookup(data: unknown, key: string): unknown {
  let node: unknown = data;
  for (const part of key.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) {
      return undefined;
    }
    if (!Object.hasOwn(node, part)) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A param value as a run stores it: scalars as text, lists and mappings as JSON. */
export function paramText(value: unknown): string {
  if (typeof value === "string") {
    return value;
  }
  if (value !== null && typeof value === "object") {
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * A param's key as a run records it: the dotted key for the stage's own params file
 * (`<wdir>/params.yaml`), `file:key` for any other file.
 */
export function runParamKey(file: string, key: string, defaultFile: string): string {
  return file === defaultFile ? key : `${file}:${key}`;
}

/** Flattens StageParams to `key → text` for a run (keys of other files get a `file:` prefix). */
export function runParams(params: StageParams, defaultFile: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, values] of Object.entries(params)) {
    for (const [key, value] of Object.entries(values)) {
      out[runParamKey(file, key, defaultFile)] = paramText(value);
    }
  }
  return out;
}
