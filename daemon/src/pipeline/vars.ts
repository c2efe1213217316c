/**
 * The variables `${…}` reads, as in dvc.yaml: params.yaml (when it exists), then each entry of
 * the top-level `vars` in order: an inline mapping, a YAML/JSON file (`config.yaml`), or some
 * top-level keys of one (`config.yaml:train,test`). A later definition of a name replaces an
 * earlier one.
 */
import { isMap, isScalar, isSeq, parse as parseYaml, type Node } from "yaml";
import type { Fail } from "./expand";
import type { Vars } from "./template";

/** Reads a workspace-relative file; undefined when it does not exist. */
export type ReadFile = (path: string) => string | undefined;

export function loadVars(
  node: Node | null | undefined,
  defaultParams: string,
  readFile: ReadFile | undefined,
  fail: Fail,
): Vars {
  const vars: Vars = {};
  Object.assign(vars, defaultVars(defaultParams, readFile));
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) {
    return vars;
  }
  if (isMap(node)) {
    return Object.assign(vars, node.toJSON() as Vars);
  }
  if (!isSeq(node)) {
    fail(
      node,
      "'vars' must be a list of mappings and file names (file.yaml or file.yaml:key1,key2)",
    );
  }
  for (const item of node.items as Node[]) {
    Object.assign(vars, varsEntry(item, readFile, fail));
  }
  return vars;
}

function varsEntry(item: Node, readFile: ReadFile | undefined, fail: Fail): Vars {
  if (isMap(item)) {
    return item.toJSON() as Vars;
  }
  if (!isScalar(item) || typeof item.value !== "string") {
    fail(
      item,
      "each entry of 'vars' must be a mapping or a file name (file.yaml or file.yaml:key1,key2)",
    );
  }
  const [path, keyList] = splitFileRef(item.value);
  let text: string | undefined;
  try {
    text = readFile?.(path);
  } catch (err) {
    // A path outside the workspace, or one that cannot be read: say where it is named.
    fail(item, (err as Error).message);
  }
  if (text === undefined) {
    fail(item, `vars file ${path} does not exist`);
  }
  const data = parseFile(path, text, item, fail);
  if (keyList === undefined) {
    return data;
  }
  const picked: Vars = {};
  for (const key of keyList.split(",").map((k) => k.trim())) {
    if (!Object.hasOwn(data, key)) {
      fail(item, `vars file ${path} has no top-level key '${key}'`);
    }
    picked[key] = data[key];
  }
  return picked;
}

/**
 * params.yaml as vars. A broken or non-mapping params.yaml gives none here: ParamsReader reports
 * it, naming the file, when a stage uses it, and a `${…}` that needed it says it is unknown.
 */
function defaultVars(path: string, readFile: ReadFile | undefined): Vars {
  const text = readFile?.(path);
  if (text === undefined) {
    return {};
  }
  try {
    const data: unknown = parseYaml(text);
    return data !== null && typeof data === "object" && !Array.isArray(data) ? (data as Vars) : {};
  } catch {
    return {};
  }
}

/** `file.yaml:a,b` → ["file.yaml", "a,b"]; a Windows drive letter is not a separator. */
function splitFileRef(ref: string): [string, string | undefined] {
  const colon = ref.lastIndexOf(":");
  if (colon <= 1) {
    return [ref, undefined];
  }
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

function parseFile(path: string, text: string, node: Node | null, fail: Fail): Vars {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    fail(node, `${path} is not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (data === null || data === undefined) {
    return {};
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    fail(node, `${path} must hold a mapping to be used as vars`);
  }
  return data as Vars;
}
