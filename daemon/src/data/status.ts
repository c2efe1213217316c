/**
 * `lathe status` for versioned data: every pointer file (`<path>.lathe`) in the workspace,
 * compared with the data beside it and with the content store, like `git status` for the files
 * git does not hold.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { DataStatus, DataStatusEntry } from "../../../schemas/api";
import { toLatheError } from "../errors";
import type { Workspace } from "../workspace";
import { objectExists } from "./objects";
import { POINTER_SUFFIX, readPointer } from "./pointer";
import type { PathHash } from "./tree";

/** Folders never searched for pointers: Lathe's own state, git's, and installed packages. */
const SKIPPED_DIRS = new Set([".lathe", ".git", "node_modules"]);

export type Hasher = (abs: string) => Promise<PathHash>;

/** Each pointer's state; `hash` reads the data (the stat-keyed hash cache makes it cheap). */
export async function dataStatus(ws: Workspace, hash: Hasher): Promise<DataStatus> {
  const pointers = await findPointers(ws.root);
  const entries: DataStatusEntry[] = [];
  for (const file of pointers) {
    entries.push(await entryFor(ws, file, hash));
  }
  const changed = entries.some((e) => e.state !== "up-to-date");
  return { changed, entries };
}

async function entryFor(ws: Workspace, file: string, hash: Hasher): Promise<DataStatusEntry> {
  const pointerPath = toPosix(relative(ws.root, file));
  let pointer;
  try {
    pointer = (await readPointer(file))!;
  } catch (err) {
    const message = toLatheError(err).message;
    return {
      path: pointerPath.slice(0, -POINTER_SUFFIX.length),
      pointer: pointerPath,
      state: "invalid",
      oid: null,
      message,
    };
  }
  const abs = join(dirname(file), pointer.path);
  const path = toPosix(relative(ws.root, abs));
  const base = { path, pointer: pointerPath, oid: pointer.oid };
  const cached = await objectExists(ws, pointer.oid);
  if (!existsSync(abs)) {
    // FIXME(#2): name `lathe pull` for an object that is not in the cache once remotes exist.
    const message = cached
      ? `missing: ${path} is not in the workspace (its data is in .lathe/cache); run 'lathe checkout ${path}' to restore it`
      : `missing: ${path} is not in the workspace, nor in .lathe/cache`;
    return { ...base, state: "missing", message };
  }
  const now = await hash(abs);
  if (now.oid !== pointer.oid) {
    const message = `modified: ${path} differs from ${pointerPath}; run 'lathe add ${path}' to version it`;
    return { ...base, state: "modified", message };
  }
  if (!cached) {
    const message = `not in cache: ${path} matches ${pointerPath} but its object is not in .lathe/cache; run 'lathe add ${path}' to store it`;
    return { ...base, state: "not-in-cache", message };
  }
  return { ...base, state: "up-to-date", message: "up to date" };
}

/** Every `*.lathe` pointer file under `root`, sorted (`.lathe/`, `.git/`, node_modules skipped). */
export async function findPointers(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) {
        await walk(abs);
      } else if (entry.isFile() && entry.name.endsWith(POINTER_SUFFIX)) {
        found.push(abs);
      }
    }
  };
  await walk(root);
  return found.sort();
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}
