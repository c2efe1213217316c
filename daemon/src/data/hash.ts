/**
 * Ids of data: a file's id is what `git hash-object` prints and a directory's id is what
 * `git write-tree` prints, both in a repository made with `git init --object-format=sha256`.
 * Files are streamed in fixed-size chunks, never read whole.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { LatheError } from "../errors";
import { showPath, walkPath, type DiskPath, type ObjectSink, type PathHash } from "./tree";

export type { PathHash } from "./tree";

export type ObjectType = "blob" | "tree";

const chunkBytes = 1 << 20;

/** `git hash-object` of an empty file. */
export const EMPTY_BLOB_OID = "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813";
/** `git write-tree` of an empty directory. */
export const EMPTY_TREE_OID = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";

/** The header git hashes before an object's bytes: `<type> <size>\0`. */
export function objectHeader(type: ObjectType, size: number): Buffer {
  return Buffer.from(`${type} ${size}\0`);
}

/** The id of an object held in memory (a symlink target or a tree body). */
export function hashBytes(type: ObjectType, body: Buffer): string {
  return createHash("sha256").update(objectHeader(type, body.length)).update(body).digest("hex");
}

/** The blob id of the file at `abs`, streamed. */
export async function hashFile(abs: DiskPath): Promise<{ oid: string; size: number }> {
  return hashFileWith(abs);
}

/**
 * Streams the file at `abs` once, hashing it as a blob and handing each chunk to `onChunk`
 * (awaited before the next read, since the chunk's buffer is reused). Storing uses this to hash
 * while it copies.
 */
export async function hashFileWith(
  abs: DiskPath,
  onChunk?: (chunk: Buffer) => Promise<unknown>,
): Promise<{ oid: string; size: number }> {
  const fh = await open(abs, "r");
  try {
    const { size } = await fh.stat();
    const hash = createHash("sha256").update(objectHeader("blob", size));
    const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(size, 1)));
    let total = 0;

    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) {
        break;
      }
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      total += bytesRead;
      if (onChunk) {
        await onChunk(chunk);
      }
    }

    // The header carries the size read before the bytes, so a file that grew or shrank while
    // we read it has no honest id.
    if (total !== size) {
      throw new LatheError(
        "LATHE_CONFLICT",
        `${showPath(abs)} changed while it was being read (${size} bytes expected, ${total} read); try again once it is written.`,
        { path: showPath(abs), expected: size, read: total },
      );
    }
    return { oid: hash.digest("hex"), size };
  } finally {
    await fh.close();
  }
}

const hashingSink: ObjectSink = {
  file: (abs) => hashFile(abs),
  bytes: (type, body) => Promise.resolve(hashBytes(type, body)),
};

/**
 * The id of a file (its blob id) or a directory (its tree id, `.lathe` and `.git` left out),
 * with the total bytes and number of files. A symlink at `abs` is followed; symlinks inside a
 * directory are hashed as git does (mode 120000, the target as content). Unlike `git add -A`,
 * `.gitignore` rules do not apply: versioned data is every byte in the folder.
 */
export async function hashPath(abs: string): Promise<PathHash> {
  return walkPath(abs, hashingSink);
}
