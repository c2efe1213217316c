/**
 * Where a workspace keeps its files (DESIGN.md "Files in a user's workspace"), and the one place
 * that turns a user-supplied path into an absolute path kept inside its root.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { LatheError } from "./errors";

export interface Workspace {
  /** The folder holding lathe.yaml (or dvc.yaml), absolute. */
  root: string;
  /** `<root>/.lathe`: git-ignored state. */
  stateDir: string;
  dbPath: string;
  objectsDir: string;
  daemonFile: string;
  logsDir: string;
}

export function workspaceAt(root: string): Workspace {
  const abs = resolve(root);
  const stateDir = join(abs, ".lathe");
  return {
    root: abs,
    stateDir,
    dbPath: join(stateDir, "lathe.db"),
    objectsDir: join(stateDir, "cache", "objects"),
    daemonFile: join(stateDir, "daemon.json"),
    logsDir: join(stateDir, "logs"),
  };
}

/** Walks up from `start` to the nearest folder with lathe.yaml, dvc.yaml or .lathe/. */
export function findWorkspace(start: string): Workspace | undefined {
  let dir = resolve(start);
  for (;;) {
    for (const marker of ["lathe.yaml", "dvc.yaml", ".lathe"]) {
      if (existsSync(join(dir, marker))) {
        return workspaceAt(dir);
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

/**
 * Resolves `path` against `root` and refuses anything that lands outside it (`..`, absolute
 * paths elsewhere). Symlinks are not followed here; callers that open files under an untrusted
 * tree check `realpath` too.
 */
export function resolveInside(root: string, path: string, what = "path"): string {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new LatheError("LATHE_BAD_INPUT", `The ${what} must be a non-empty path.`, { path });
  }
  const abs = isAbsolute(path) ? resolve(path) : resolve(root, path);
  const rel = relative(root, abs);
  if (rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel))) {
    return abs;
  }
  throw new LatheError("LATHE_FORBIDDEN", `The ${what} '${path}' is outside ${root}.`, {
    path,
    root,
  });
}

/** The workspace-relative form of an absolute path, with forward slashes. */
export function toWorkspacePath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join("/");
}
