/**
 * DVC's files besides the root dvc.yaml that Lathe does not read: dvc.lock (Lathe keeps
 * lathe.lock) and dvc.yaml files in subfolders (Lathe reads the pipeline file at the workspace
 * root only). They become warnings of a pipeline read from dvc.yaml, so that `lathe status` and
 * `lathe repro` say what is left out instead of ignoring it silently.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, posix } from "node:path";
import { LOCK_FILE } from "./reserved";

/**
 * How many folder levels below the root are searched for a dvc.yaml (`a/dvc.yaml`,
 * `a/b/dvc.yaml`): each run of status or repro reads these folders' listings, so the search
 * stays shallow rather than walking a data tree.
 */
const NESTED_DEPTH = 2;
/** Folders never searched: dot folders (.git, .lathe, .dvc…) and these. */
const SKIPPED = new Set(["node_modules"]);

/** The warnings for dvc.lock and nested dvc.yaml files in a workspace whose pipeline is dvc.yaml. */
export function unreadDvcFiles(root: string): string[] {
  const warnings: string[] = [];

  // Once lathe.lock exists the stages no longer all run, so the warning would be wrong.
  const isFirstRepro = !existsSync(join(root, LOCK_FILE));
  if (isFirstRepro && existsSync(join(root, "dvc.lock"))) {
    warnings.push("dvc.lock is not read: Lathe keeps its own lathe.lock; every stage runs once");
  }

  for (const file of nestedPipelines(root, "", NESTED_DEPTH)) {
    warnings.push(`${file} is not read: Lathe reads the pipeline file at the workspace root only`);
  }
  return warnings;
}

/** Workspace-relative `dvc.yaml` files in the subfolders of `dir`, `depth` levels down. */
function nestedPipelines(root: string, dir: string, depth: number): string[] {
  if (depth === 0) {
    return [];
  }
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return []; // A folder removed or unreadable meanwhile holds nothing to warn about.
  }
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith(".") || SKIPPED.has(entry.name)) {
      continue;
    }
    const sub = posix.join(dir, entry.name);
    if (existsSync(join(root, sub, "dvc.yaml"))) {
      found.push(posix.join(sub, "dvc.yaml"));
    }
    found.push(...nestedPipelines(root, sub, depth - 1));
  }
  return found.sort();
}
