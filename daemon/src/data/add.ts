/**
 * `lathe add`: put a file or folder into the content store, write its pointer file beside it and
 * keep the data itself out of git (DVC's model).
 */
import { existsSync } from "node:fs";
import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { LatheError } from "../errors";
import { toWorkspacePath, type Workspace } from "../workspace";
import { ensureIgnored, ignoreLineFor } from "./gitignore";
import { hashPath } from "./hash";
import { objectExists } from "./objects";
import { POINTER_SUFFIX, pointerPathFor, readPointer, writePointer } from "./pointer";
import { storePath } from "./store";
import type { PathHash } from "./tree";

export interface AddResult extends PathHash {
  /** The data, relative to the workspace root, with forward slashes. */
  path: string;
  /** Its pointer file, relative to the workspace root. */
  pointer: string;
  /** The `.gitignore` that ignores the data, relative to the workspace root. */
  gitignore: string;
  /** True when the pointer already named these bytes and they were in the store: nothing done. */
  unchanged: boolean;
}

/**
 * Adds the file or folder at `abs` (already kept inside `ws.root` by resolveInside). Adding data
 * whose pointer already names its current id, with the object in the store, only rehashes it.
 */
export async function addPath(ws: Workspace, abs: string): Promise<AddResult> {
  const rel = toWorkspacePath(ws.root, abs);
  await checkAddable(ws, abs, rel);

  const pointerFile = pointerPathFor(abs);
  const previous = await readPointer(pointerFile);
  let hash: PathHash | undefined;
  if (previous) {
    // FIXME(#2): a stat cache (size, mtime, inode per file) should make this check free instead
    // of a full read of the data.
    const current = await hashPath(abs);
    const isStored = await objectExists(ws, current.oid);
    hash = current.oid === previous.oid && isStored ? current : undefined;
  }
  const unchanged = hash !== undefined;

  const stored = hash ?? (await storePath(ws, abs));
  if (!unchanged) {
    await writePointer(abs, stored);
  }
  await ensureIgnored(dirname(abs), ignoreLineFor(basename(abs)));

  return {
    ...stored,
    path: rel,
    pointer: toWorkspacePath(ws.root, pointerFile),
    gitignore: toWorkspacePath(ws.root, join(dirname(abs), ".gitignore")),
    unchanged,
  };
}

async function checkAddable(ws: Workspace, abs: string, rel: string): Promise<void> {
  const refuse = (reason: string): never => {
    throw new LatheError("LATHE_BAD_INPUT", `Cannot add ${rel || "."}: ${reason}`, { path: rel });
  };
  if (rel === "") {
    refuse("that is the workspace itself; add the files or folders inside it.");
  }
  const first = rel.split("/")[0];
  if (first === ".lathe" || first === ".git" || rel.split("/").includes(".git")) {
    refuse("it is inside .lathe/ or .git/, which hold Lathe's and git's own state.");
  }
  if (rel.endsWith(POINTER_SUFFIX)) {
    refuse(
      `it is a pointer file; add the data it points to (${rel.slice(0, -POINTER_SUFFIX.length)}).`,
    );
  }

  const st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") {
      return undefined; // Reported just below, naming the path.
    }
    throw err;
  });
  if (!st) {
    refuse(`${rel} does not exist (looked for ${abs}).`);
  }
  await checkRealPathInside(ws, abs, rel);
  checkNoVersionedAncestor(ws, rel);
}

/**
 * Data inside a versioned folder is already versioned by that folder's pointer; two pointers
 * over the same bytes would disagree as soon as one is updated.
 */
function checkNoVersionedAncestor(ws: Workspace, rel: string): void {
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i++) {
    const ancestor = parts.slice(0, i).join("/");
    if (existsSync(join(ws.root, `${ancestor}${POINTER_SUFFIX}`))) {
      throw new LatheError(
        "LATHE_CONFLICT",
        `Cannot add ${rel}: it is inside ${ancestor}, which is versioned already (${ancestor}${POINTER_SUFFIX}); run 'lathe add ${ancestor}' instead.`,
        { path: rel, versionedAs: ancestor },
      );
    }
  }
  // FIXME(#2): adding a folder that holds pointer files of its own should be refused the same
  // way (DVC calls these overlapping outputs); today the inner pointers are hashed as data.
}

/** resolveInside follows no symlinks; data reached through one must still live in the workspace. */
async function checkRealPathInside(ws: Workspace, abs: string, rel: string): Promise<void> {
  const realRoot = await realpath(ws.root);
  const realAbs = await realpath(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `Cannot add ${rel}: it is a symlink whose target does not exist.`,
        { path: rel },
      );
    }
    throw err;
  });
  const inside = relative(realRoot, realAbs);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`)) {
    throw new LatheError(
      "LATHE_FORBIDDEN",
      `Cannot add ${rel}: it is a symlink to ${realAbs}, outside the workspace ${ws.root}.`,
      { path: rel, target: realAbs },
    );
  }
}
