/**
 * Putting files and directories into the content store, and checking what is there. Each file is
 * read once: hashed while it is copied into a temp object, then linked into place.
 */
import { createHash } from "node:crypto";
import { open, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { LatheError } from "../errors";
import type { Workspace } from "../workspace";
import { EMPTY_TREE_OID, hashBytes, hashFileWith, objectHeader, type ObjectType } from "./hash";
import {
  OBJECT_MODE,
  commitObject,
  objectExists,
  objectPath,
  syncDirs,
  tempObjectPath,
} from "./objects";
import { looksLikeTree, walkPath, type DiskPath, type ObjectSink, type PathHash } from "./tree";

/**
 * Copies the file or directory at `abs` into `.lathe/cache/objects` (blobs, and tree objects for
 * directories so that restorePath can rebuild them) and returns its id as hashPath would.
 * Objects already in the store are left untouched.
 */
export async function storePath(ws: Workspace, abs: string): Promise<PathHash> {
  const touched = new Set<string>();
  const result = await walkPath(abs, storingSink(ws, touched));
  await syncDirs(touched);
  return result;
}

/** Files up to this size are read whole, so an object already stored costs no write at all. */
const smallFileBytes = 1 << 20;

function storingSink(ws: Workspace, touched: Set<string>): ObjectSink {
  const bytes = async (type: ObjectType, body: Buffer): Promise<string> => {
    const oid = hashBytes(type, body);
    if (await objectExists(ws, oid)) {
      return oid;
    }
    const temp = await tempObjectPath(ws);
    await withTemp(temp, () => writeSynced(temp, body));
    touched.add(await withTemp(temp, () => commitObject(ws, temp, oid)));
    return oid;
  };
  const file = async (abs: DiskPath): Promise<{ oid: string; size: number }> => {
    if ((await stat(abs)).size <= smallFileBytes) {
      const body = await readFile(abs);
      return { oid: await bytes("blob", body), size: body.length };
    }
    const temp = await tempObjectPath(ws);
    const blob = await withTemp(temp, () => copyToTemp(abs, temp));
    touched.add(await withTemp(temp, () => commitObject(ws, temp, blob.oid)));
    return blob;
  };
  return { file, bytes };
}

async function copyToTemp(abs: DiskPath, temp: string): Promise<{ oid: string; size: number }> {
  const out = await open(temp, "wx", OBJECT_MODE);
  try {
    const blob = await hashFileWith(abs, (chunk) => out.write(chunk));
    await out.sync();
    return blob;
  } finally {
    await out.close();
  }
}

async function writeSynced(path: string, body: Buffer): Promise<void> {
  const out = await open(path, "wx", OBJECT_MODE);
  try {
    await writeFile(out, body);
    await out.sync();
  } finally {
    await out.close();
  }
}

/** Runs `fn`; if it throws, removes the temp file (if it is still there) and rethrows. */
async function withTemp<T>(temp: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await unlink(temp).catch((cleanupErr: NodeJS.ErrnoException) => {
      // ENOENT: the temp was already moved or never created; anything else is worth knowing.
      if (cleanupErr.code !== "ENOENT") {
        throw cleanupErr;
      }
    });
    throw err;
  }
}

/**
 * Rehashes a stored object and returns its type; throws LATHE_CORRUPT when the bytes hash to
 * neither a blob nor a tree with this id, LATHE_NOT_FOUND when it is not in the store. One read
 * pass computes both candidate ids, since an object's type is not recorded beside it.
 */
export async function verifyObject(ws: Workspace, oid: string): Promise<ObjectType> {
  const fh = await openObject(ws, oid);
  try {
    const { size } = await fh.stat();
    const asBlob = createHash("sha256").update(objectHeader("blob", size));
    const asTree = createHash("sha256").update(objectHeader("tree", size));
    for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) {
      asBlob.update(chunk as Buffer);
      asTree.update(chunk as Buffer);
    }
    if (asBlob.digest("hex") === oid) {
      return "blob";
    }
    if (asTree.digest("hex") === oid) {
      return "tree";
    }
    throw corruptObject(ws, oid);
  } finally {
    await fh.close();
  }
}

/**
 * The type of a stored object, cheaply: only an object whose first bytes look like a tree entry
 * (or the empty tree) is rehashed to tell; every other object is a blob.
 */
export async function objectType(ws: Workspace, oid: string): Promise<ObjectType> {
  if (oid === EMPTY_TREE_OID) {
    return "tree";
  }
  const fh = await openObject(ws, oid);
  let prefix: Buffer;
  try {
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buffer, 0, buffer.length, 0);
    prefix = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  return looksLikeTree(prefix) ? verifyObject(ws, oid) : "blob";
}

/** Opens a stored object for reading, or throws LATHE_NOT_FOUND naming it. */
export async function openObject(
  ws: Workspace,
  oid: string,
): Promise<Awaited<ReturnType<typeof open>>> {
  const path = objectPath(ws, oid);
  try {
    return await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `Object ${oid} is not in the cache (${path}); run 'lathe add' on the data it holds.`,
        { oid, path },
      );
    }
    throw err;
  }
}

/** The error for a stored object whose bytes do not hash to its id. */
export function corruptObject(ws: Workspace, oid: string): LatheError {
  const path = objectPath(ws, oid);
  return new LatheError(
    "LATHE_CORRUPT",
    `Stored object ${oid} does not hash to its id: ${path} is damaged; re-add the data it holds.`,
    { oid, path },
  );
}
