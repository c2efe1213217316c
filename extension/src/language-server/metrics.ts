/**
 * Metric names the pipeline's stages write: keys of their metrics files (JSON or YAML, nested keys
 * joined with dots, numbers only) and the columns of their CSV plots, as they are on disk now.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { DocContext } from "./context";

export function metricNames(ctx: DocContext): string[] {
  const names = new Set<string>();
  for (const stage of ctx.model.stages) {
    for (const out of stage.outputs) {
      if (!ctx.files || out.wsPath === undefined || out.field === "outs") {
        continue;
      }
      const text = readText(join(ctx.files.root, out.wsPath));
      if (text === undefined) {
        continue;
      }
      // FIXME(#3): offer the columns of a .tsv table and the keys of a .jsonl file too (the
      // daemon reads both as metrics); they are parsed as YAML here and give no names.
      if (out.wsPath.endsWith(".csv")) {
        for (const column of text.split("\n", 1)[0]!.split(",")) {
          if (column.trim() && column.trim() !== "step") {
            names.add(column.trim());
          }
        }
      } else {
        flatten(safeParse(text), "", names);
      }
    }
  }
  return [...names].sort();
}

function readText(abs: string): string | undefined {
  try {
    return readFileSync(abs, "utf8");
  } catch {
    return undefined;
  }
}

function safeParse(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

function flatten(value: unknown, prefix: string, out: Set<string>): void {
  if (typeof value === "number" && prefix) {
    out.add(prefix);
  } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) {
      flatten(inner, prefix ? `${prefix}.${key}` : key, out);
    }
  }
}
