/**
 * `lathe add`: put a file or folder into the content store, write its pointer file beside it and
 * keep the data itself out of git (DVC's model).
 */
import { existsSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { LatheError } from "../errors";
import { groundOf, groundText } from "../pipeline/reserved";
import { realPlace, toWorkspacePath, type Workspace } from "../workspace";
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

/** Computes a path's id; the pipeline's stat-keyed hash cache is one, plain hashPath another. */
export type Hasher = (abs: string) => Promise<PathHash>;

/**
 * Adds the file or folder at `abs` (already kept inside `ws.root` by resolveInside). Adding data
 * whose pointer already names its current id, with the object in the store, only checks it:
 * with a stat-keyed `hasher` that check reads no unchanged file.
 */
export async function addPath(
  ws: Workspace,
  abs: string,
  hasher: Hasher = hashPath,
): Promise<AddResult> {
  const rel = toWorkspacePath(ws.root, abs);
  await checkAddable(ws, abs, rel);

  const pointerFile = pointerPathFor(abs);
  const previous = await readPointer(pointerFile);
  let hash: PathHash | undefined;
  if (previous) {
    const current = await hasher(abs);
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
  const ground = groundOf(rel);
  if (ground === "workspace") {
    refuse("that is the workspace itself; add the files or folders inside it.");
  }
  if (ground) {
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
    return refuse(`${rel} does not exist (looked for ${abs}).`);
  }
  checkRealPathInside(ws, abs, rel);
  checkNoVersionedAncestor(ws, rel);
  if (st.isDirectory()) {
    await checkNoVersionedInside(abs, rel);
  }
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
}

/** The other half of the rule above: a folder must not hold data versioned on its own. */
async function checkNoVersionedInside(abs: string, rel: string): Promise<void> {
  const entries = await readdir(abs, { recursive: true, withFileTypes: true });
  const inner = entries.find((e) => !e.isDirectory() && e.name.endsWith(POINTER_SUFFIX));
  if (!inner) {
    return;
  }
  const innerRel = relative(abs, join(inner.parentPath, inner.name)).split(sep).join("/");
  const data = `${rel}/${innerRel.slice(0, -POINTER_SUFFIX.length)}`;
  throw new LatheError(
    "LATHE_CONFLICT",
    `Cannot add ${rel}: it holds ${data}, which is versioned on its own (${rel}/${innerRel}); remove that pointer first, or add the folders beside it one by one.`,
    { path: rel, versionedInside: data },
  );
}

/** resolveInside follows no symlinks; data reached through one must still live in the workspace. */
function checkRealPathInside(ws: Workspace, abs: string, rel: string): void {
  if (!existsSync(abs)) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `Cannot add ${rel}: it is a symlink whose target does not exist.`,
      { path: rel },
    );
  }
  const place = realPlace(ws.root, abs);
  if (!place.inside) {
    const what =
      place.link === rel
        ? `a symlink to ${place.real}`
        : `under the symlink ${place.link} -> ${place.real}`;
    throw new LatheError(
      "LATHE_FORBIDDEN",
      `Cannot add ${rel}: it is ${what}, outside the workspace ${ws.root}.`,
      { path: rel, link: place.link, target: place.real },
    );
  }
  const ground = place.link === undefined ? undefined : groundOf(place.rel);
  if (ground) {
    throw new LatheError(
      "LATHE_FORBIDDEN",
      `Cannot add ${rel}: through the symlink ${place.link} it ${groundText(ground)}.`,
      { path: rel, link: place.link, target: place.real },
    );
  }
}
