/**
 * The top-level `vars:` of a pipeline file as written, entries in order (a later name replaces an
 * earlier one): an inline mapping, flattened to dotted names with the span of each key, or a
 * file (`config.yaml`, or some top-level keys of it: `config.yaml:train,test`). vars.ts resolves
 * them, with params.yaml before them, as daemon/src/pipeline/vars.ts does.
 */
import { posix } from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { keyText, spanOf, type Span } from "./yamlNodes";

export interface InlineVar {
  /** Dotted name. */
  name: string;
  value: unknown;
  /** The key's span in the pipeline file. */
  span: Span;
}

export type VarsEntry =
  /** `value` is the mapping as a plain object; `vars` its names, flattened. */
  | { kind: "inline"; value: Record<string, unknown>; vars: InlineVar[] }
  | { kind: "file"; file: string; keys: string[] | undefined; span: Span };

/** The files a `vars:` section reads, in order (its inline mappings read none). */
export function varsFiles(entries: VarsEntry[]): string[] {
  return entries.flatMap((v) => (v.kind === "file" ? [v.file] : []));
}

/** The entries of a `vars:` value (a list, or one mapping); spans moved by `base`. */
export function readVarsSection(node: Node | null, base: number): VarsEntry[] {
  const items = isSeq(node) ? (node.items as Node[]) : isMap(node) ? [node] : [];
  const entries: VarsEntry[] = [];
  for (const item of items) {
    if (isScalar(item) && typeof item.value === "string") {
      const [file, keys] = splitFileRef(item.value);
      entries.push({
        kind: "file",
        file: posix.normalize(file.replace(/\\/g, "/")),
        keys: keys?.split(",").map((k) => k.trim()),
        span: spanOf(item, base),
      });
    } else if (isMap(item)) {
      const vars: InlineVar[] = [];
      flatten(item, "", vars, base);
      entries.push({ kind: "inline", value: item.toJSON() as Record<string, unknown>, vars });
    }
  }
  return entries;
}

/** `file.yaml:a,b` → ["file.yaml", "a,b"]; a Windows drive letter is not a separator. */
function splitFileRef(ref: string): [string, string | undefined] {
  const colon = ref.lastIndexOf(":");
  return colon <= 1 ? [ref, undefined] : [ref.slice(0, colon), ref.slice(colon + 1)];
}

function flatten(node: Node, prefix: string, out: InlineVar[], base: number): void {
  if (!isMap(node)) {
    return;
  }
  for (const pair of node.items) {
    const key = keyText(pair);
    if (key === undefined) {
      continue;
    }
    const name = prefix ? `${prefix}.${key}` : key;
    const value = pair.value as Node | null;
    out.push({ name, value: value?.toJSON?.() ?? null, span: spanOf(pair.key, base) });
    flatten(value as Node, name, out, base);
  }
}
