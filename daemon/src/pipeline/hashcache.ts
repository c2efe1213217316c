/**
 * Ids of deps and outs without re-reading unchanged files: a file's size, mtime, ctime and inode
 * (nanoseconds, from a bigint stat) map to its blob id in the `hash_cache` table. Any change to
 * the file changes one of them, so the entry no longer matches and the file is hashed again.
 */
import { stat } from "node:fs/promises";
import { hashBytes, hashFile } from "../data/hash";
import { walkPath, type DiskPath, type ObjectSink, type PathHash } from "../data/tree";
import type { Db } from "../store/db";

/**
 * A file changed within this long before it was hashed is not cached: on a file system with
 * coarse timestamps a second write in the same tick would keep size and mtime (git's "racy"
 * entries).
 */
const RACY_MS = 2000;

interface Row {
  size: number;
  mtime_ns: string;
  ctime_ns: string;
  ino: string;
  oid: string;
}

export class HashCache {
  private readonly get;
  private readonly put;

  constructor(db: Db) {
    this.get = db.prepare(
      "SELECT size, mtime_ns, ctime_ns, ino, oid FROM hash_cache WHERE path = ?",
    );
    this.put = db.prepare(
      `INSERT OR REPLACE INTO hash_cache (path, size, mtime_ns, ctime_ns, ino, oid)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
  }

  /** hashPath's answer for `abs` (file or directory), reading only files that changed. */
  hashPath(abs: string): Promise<PathHash> {
    return walkPath(abs, this.sink);
  }

  private readonly sink: ObjectSink = {
    file: (abs) => this.hashFile(abs),
    bytes: (type, body) => Promise.resolve(hashBytes(type, body)),
  };

  private async hashFile(abs: DiskPath): Promise<{ oid: string; size: number }> {
    const st = await stat(abs, { bigint: true });
    const key = {
      size: Number(st.size),
      mtime_ns: String(st.mtimeNs),
      ctime_ns: String(st.ctimeNs),
      ino: String(st.ino),
    };
    // A path that is not UTF-8 is keyed by its bytes; NUL never occurs in a real path.
    const pathKey = typeof abs === "string" ? abs : `\0${abs.toString("hex")}`;
    const row = this.get.get(pathKey) as Row | undefined;
    const hit =
      row &&
      row.size === key.size &&
      row.mtime_ns === key.mtime_ns &&
      row.ctime_ns === key.ctime_ns &&
      row.ino === key.ino;
    if (hit) {
      return { oid: row.oid, size: row.size };
    }

    const hashed = await hashFile(abs);
    const changedAt = Number(st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs) / 1e6;
    if (Date.now() - changedAt >= RACY_MS) {
      this.put.run(pathKey, key.size, key.mtime_ns, key.ctime_ns, key.ino, hashed.oid);
    }
    return hashed;
  }
}
