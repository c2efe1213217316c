/**
 * The content store: `.lathe/cache/objects/<first 2 hex>/<rest>`, uncompressed, written once.
 * Blobs hold a file's bytes as they are (so checkout can reflink, hardlink or copy); trees hold
 * git's tree body without the `tree <size>\0` header. Nothing outside data/ builds an object path.
 */
import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { access, link, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LatheError } from "../errors";
import type { Workspace } from "../workspace";

const OID = /^[0-9a-f]{64}$/;

/** Objects are read-only on disk: nothing may modify one after its rename. */
export const OBJECT_MODE = 0o444;

export function objectPath(ws: Workspace, oid: string): string {
  if (!OID.test(oid)) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${oid}' is not a SHA-256 object id (64 hex digits).`,
      {
        oid,
      },
    );
  }
  return join(ws.objectsDir, oid.slice(0, 2), oid.slice(2));
}

export async function objectExists(ws: Workspace, oid: string): Promise<boolean> {
  try {
    await access(objectPath(ws, oid), constants.F_OK);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return false;
    }
    throw err;
  }
}

/**
 * A fresh temp path for an object being written. It sits in the objects folder itself (the id,
 * hence the fan-out folder, is known only once the bytes are copied), on the same file system,
 * so the final link or rename is atomic. fsck and gc skip names ending in `.tmp`.
 */
export async function tempObjectPath(ws: Workspace): Promise<string> {
  await mkdir(ws.objectsDir, { recursive: true });
  return join(ws.objectsDir, `${randomUUID()}.tmp`);
}

/**
 * Moves a finished, fsynced temp file to its object path unless that object exists already;
 * returns the fan-out folder, which the caller fsyncs once at the end. An existing object is
 * never replaced: `link` fails on an existing name, where `rename` would replace it.
 */
export async function commitObject(ws: Workspace, temp: string, oid: string): Promise<string> {
  const target = objectPath(ws, oid);
  await mkdir(dirname(target), { recursive: true });
  try {
    await link(temp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EEXIST: another writer (or an earlier add) stored the same bytes first. EPERM/ENOTSUP: the
    // file system has no hard links, so fall back to a rename when the object is still absent.
    if (code !== "EEXIST" && code !== "EPERM" && code !== "ENOTSUP") {
      throw err;
    }
    if (code !== "EEXIST" && !(await objectExists(ws, oid))) {
      await rename(temp, target);
      return dirname(target);
    }
  }
  await unlink(temp);
  return dirname(target);
}

/** fsyncs folders so that renames and links into them survive a crash. */
export async function syncDirs(dirs: Iterable<string>): Promise<void> {
  for (const dir of dirs) {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
