/**
 * Where a workspace keeps its files (DESIGN.md "Files in a user's workspace"), and the one place
 * that turns a user-supplied path into an absolute path kept inside its root.
 */
import { existsSync, lstatSync, readlinkSync, realpathSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
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
 * paths elsewhere). Symlinks are not followed here; callers that delete, write, read or hash
 * what is there check `realPlace` too.
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

/** Where a workspace path really leads once its symlinks are followed (see realPlace). */
export type RealPlace =
  | {
      inside: true;
      /** Relative to the root's real place, forward slashes; "" for the root itself. */
      rel: string;
      /** The last symlink on the way, workspace-relative as written; undefined when none. */
      link: string | undefined;
      real: string;
    }
  | {
      inside: false;
      /** The first symlink that leads out, workspace-relative as written. */
      link: string;
      /** Where that symlink leads. */
      real: string;
    };

/**
 * Follows the symlinks of `abs` (already kept inside `root` by resolveInside) one component at a
 * time, as deleting, writing, reading or hashing it would, and says whether every step stays
 * inside the root's real place: the shared check of `lathe add`, `lathe checkout` and the
 * pipeline's paths. A part that does not exist yet is taken as written; a dangling symlink leads
 * where its target would be.
 */
export function realPlace(root: string, abs: string): RealPlace {
  const realRoot = realpathSync(root);
  const parts = relative(root, abs)
    .split(sep)
    .filter((part) => part !== "");
  let real = realRoot;
  let link: string | undefined;
  for (let i = 0; i < parts.length; i++) {
    const here = join(root, ...parts.slice(0, i + 1));
    if (!lstatOrUndefined(here)?.isSymbolicLink()) {
      real = join(real, parts[i]!);
      continue;
    }
    link = parts.slice(0, i + 1).join("/");
    real = linkTarget(here, real);
    if (!isWithin(realRoot, real)) {
      return { inside: false, link, real };
    }
  }
  return { inside: true, rel: relative(realRoot, real).split(sep).join("/"), link, real };
}

/** True when `abs` is `dir` or lies inside it (both absolute and normalised). */
export function isWithin(dir: string, abs: string): boolean {
  return abs === dir || abs.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/** Codes of a path that is not there (yet), or leads nowhere. */
const MISSING = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (MISSING.has((err as NodeJS.ErrnoException).code ?? "")) {
      return undefined; // Not there yet: what follows is taken as written.
    }
    throw err;
  }
}

/** Where the symlink at `path` leads; `realParent` is its folder's real place. */
function linkTarget(path: string, realParent: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    if (!MISSING.has((err as NodeJS.ErrnoException).code ?? "")) {
      throw err;
    }
  }
  // Dangling: writing through it would create its target, so that is where it leads.
  return nearestReal(resolve(realParent, readlinkSync(path)));
}

/** The real place of `path`'s nearest existing ancestor, with the rest of `path` as written. */
function nearestReal(path: string): string {
  const rest: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      return join(realpathSync(dir), ...rest);
    } catch (err) {
      if (!MISSING.has((err as NodeJS.ErrnoException).code ?? "") || dirname(dir) === dir) {
        throw err;
      }
    }
    rest.unshift(basename(dir));
  }
}

/** The workspace-relative form of an absolute path, with forward slashes. */
export function toWorkspacePath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join("/");
}
