/**
 * The top-level sections of a pipeline file besides `stages` and `vars`: `metrics` and `plots`
 * (files the editor shows, as in dvc.yaml), the Lathe-only sections that later issues fill in,
 * and the dvc.yaml sections Lathe reads but ignores.
 */
import { isMap, isScalar, isSeq, type Node, type Pair } from "yaml";
import { at, type PathEntry, type Pos, type TopPlot } from "./spec";

/**
 * Lathe-only sections that are part of the language but not implemented yet: accepted (so a
 * file written for a later Lathe still runs) and named in a warning. An issue that implements
 * one removes it from this list and parses it in its own module.
 */
export const LATER_SECTIONS: Record<string, string> = {
  validate: "expectations on a data file",
  deploy: "serving a registered model, #5",
  monitor: "watching a deployment for drift",
};

/** dvc.yaml sections Lathe accepts and ignores: they do not change what a stage runs. */
export const DVC_IGNORED_SECTIONS = ["params", "artifacts", "datasets"];

/** What the section readers need from the parser's walker. */
export interface SectionWalker {
  readonly file: string;
  pathEntry(node: Node, field: string, wdir: string, where: string): PathEntry;
  keyOf(pair: Pair, where: string): string;
  pos(node: Node | null | undefined): Pos;
  fail(node: unknown, message: string): never;
}

/** Top-level `metrics: [path, {path: {cache: false}}]`: metrics files not tied to a stage. */
export function readTopMetrics(w: SectionWalker, node: Node | null): PathEntry[] {
  if (node === null || (isScalar(node) && node.value === null)) {
    return [];
  }
  if (!isSeq(node)) {
    w.fail(node, "top-level 'metrics' must be a list of paths");
  }
  return node.items.map((item) => w.pathEntry(item as Node, "metrics", "", ""));
}

/**
 * Top-level `plots`, dvc's form: a list of file paths, or of `{id: {x, y, template…}}` where the
 * files are the keys of `x` and `y` when they are mappings, else the id itself.
 */
export function readTopPlots(w: SectionWalker, node: Node | null): TopPlot[] {
  if (node === null || (isScalar(node) && node.value === null)) {
    return [];
  }
  if (isMap(node)) {
    return node.items.map((pair) => plotOf(w, pair.key as Node, w.keyOf(pair, ""), pair.value));
  }
  if (!isSeq(node)) {
    w.fail(node, "top-level 'plots' must be a list of paths or {id: {x, y}} definitions");
  }
  return node.items.map((item) => {
    const entry = item as Node;
    if (isScalar(entry) && typeof entry.value === "string") {
      return { id: entry.value, files: [inside(w, entry, entry.value)], pos: w.pos(entry) };
    }
    if (!isMap(entry) || entry.items.length !== 1) {
      w.fail(entry, "each entry of top-level 'plots' must be a path or {id: {x, y}}");
    }
    const pair = entry.items[0]!;
    return plotOf(w, pair.key as Node, w.keyOf(pair, ""), pair.value);
  });
}

function plotOf(w: SectionWalker, keyNode: Node, id: string, value: unknown): TopPlot {
  const files = new Set<string>();
  if (isMap(value)) {
    for (const pair of value.items) {
      const axis = w.keyOf(pair, "");
      if ((axis === "x" || axis === "y") && isMap(pair.value)) {
        pair.value.items.forEach((p) => files.add(inside(w, p.key as Node, w.keyOf(p, ""))));
      }
    }
  } else if (value !== null && !(isScalar(value) && value.value === null)) {
    w.fail(value, `plot '${id}': its definition must be a mapping such as {x: …, y: …}`);
  }
  if (files.size === 0) {
    files.add(inside(w, keyNode, id));
  }
  return { id, files: [...files], pos: w.pos(keyNode) };
}

/** A top-level path, workspace-relative; outside the workspace is an error. */
function inside(w: SectionWalker, node: Node, path: string): string {
  const entry = w.pathEntry(node, "plots", "", "");
  return entry.wsPath || path;
}

/** The warning for a section Lathe accepts without acting on it. */
export function ignoredWarning(w: SectionWalker, key: string, keyNode: Node): string {
  const where = at(w.file, w.pos(keyNode));
  const later = LATER_SECTIONS[key];
  return later
    ? `${where}'${key}' (${later}) is not implemented yet and is ignored`
    : `${where}top-level '${key}' is not supported by Lathe and is ignored`;
}
