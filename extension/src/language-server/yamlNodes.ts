/** Small helpers over `yaml` nodes shared by the analysis, the schema check and params files. */
import { isScalar, type Node, type Pair } from "yaml";

/** Offsets into the text, end exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** The text of a pair's key when it is a plain scalar. */
export function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key) && (typeof key.value === "string" || typeof key.value === "number")) {
    return String(key.value);
  }
  return undefined;
}

/** A node's span, moved by `base` (the offset of the text the node was parsed from). */
export function spanOf(node: unknown, base = 0): Span {
  const range = (node as Node | null)?.range;
  return range ? { start: base + range[0], end: base + range[1] } : { start: base, end: base };
}
