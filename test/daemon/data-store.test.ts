import assert from "node:assert/strict";
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { EMPTY_TREE_OID, hashBytes, hashPath } from "../../daemon/src/data/hash";
import { objectPath } from "../../daemon/src/data/objects";
import { restorePath } from "../../daemon/src/data/restore";
import { storePath, verifyObject } from "../../daemon/src/data/store";
import { encodeTree } from "../../daemon/src/data/tree";
import { workspaceAt, type Workspace } from "../../daemon/src/workspace";
import { removeDir, tempDir } from "../helpers";

async function sampleTree(dir: string): Promise<void> {
  await mkdir(join(dir, "raw/nested"), { recursive: true });
  await writeFile(join(dir, "raw/a.csv"), "x,y\n1,2\n");
  await writeFile(join(dir, "raw/nested/b.bin"), Buffer.from([0, 1, 2, 255]));
  await writeFile(join(dir, "raw/empty"), "");
  await writeFile(join(dir, "train.sh"), "#!/bin/sh\n");
  await chmod(join(dir, "train.sh"), 0o755);
  await symlink("raw/a.csv", join(dir, "latest.csv"));
}

async function workspace(): Promise<Workspace> {
  return workspaceAt(await tempDir());
}

function codeOf(expected: string): (err: Error & { code?: string }) => boolean {
  return (err) => {
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

void test("a stored directory restores elsewhere with the same id, bytes, modes and links", async () => {
  const ws = await workspace();
  const src = join(ws.root, "data");
  await sampleTree(src);

  const stored = await storePath(ws, src);
  assert.deepEqual(stored, await hashPath(src));
  assert.deepEqual({ files: stored.files, kind: stored.kind }, { files: 5, kind: "dir" });

  const dest = join(ws.root, "out/restored");
  const restored = await restorePath(ws, stored.oid, dest);
  assert.deepEqual(restored, stored);
  assert.equal((await hashPath(dest)).oid, stored.oid);
  assert.equal(await readFile(join(dest, "raw/a.csv"), "utf8"), "x,y\n1,2\n");
  assert.equal((await stat(join(dest, "train.sh"))).mode & 0o100, 0o100);
  assert.equal(await readlink(join(dest, "latest.csv")), "raw/a.csv");
  assert.deepEqual(await readdir(join(ws.root, "out")), ["restored"]); // no temp left over
  await removeDir(ws.root);
});

void test("names and link targets that are not UTF-8 store and restore byte for byte", async () => {
  const ws = await workspace();
  const src = join(ws.root, "data");
  await mkdir(src);
  const name = Buffer.from([0x72, 0xe9, 0x73, 0x75, 0x6d, 0xe9]); // "résumé" in Latin-1
  await writeFile(Buffer.concat([Buffer.from(`${src}/`), name]), "bytes\n");
  await symlink(name, join(src, "link"));

  const stored = await storePath(ws, src);
  const dest = join(ws.root, "restored");
  await restorePath(ws, stored.oid, dest);

  const names = await readdir(dest, { encoding: "buffer" });
  assert.ok(
    names.some((n) => n.equals(name)),
    "the Latin-1 name came back as the same bytes",
  );
  assert.equal(await readFile(Buffer.concat([Buffer.from(`${dest}/`), name]), "utf8"), "bytes\n");
  assert.ok((await readlink(join(dest, "link"), { encoding: "buffer" })).equals(name));
  assert.equal((await hashPath(dest)).oid, stored.oid);
  await removeDir(ws.root);
});

void test("a stored file restores, replacing a directory or file at the destination", async () => {
  const ws = await workspace();
  const src = join(ws.root, "model.onnx");
  await writeFile(src, "weights");
  const stored = await storePath(ws, src);
  assert.equal(stored.kind, "file");

  const dest = join(ws.root, "x");
  await mkdir(join(dest, "junk"), { recursive: true });
  assert.deepEqual(await restorePath(ws, stored.oid, dest), stored);
  assert.equal(await readFile(dest, "utf8"), "weights");
  await removeDir(ws.root);
});

void test("restoring a directory over an existing one leaves exactly the stored tree", async () => {
  const ws = await workspace();
  const src = join(ws.root, "data");
  await sampleTree(src);
  const stored = await storePath(ws, src);

  await writeFile(join(src, "extra.txt"), "not in the tree");
  await writeFile(join(src, "raw/a.csv"), "changed");
  await restorePath(ws, stored.oid, src);
  assert.equal((await hashPath(src)).oid, stored.oid);
  await removeDir(ws.root);
});

void test("objects are written once, read-only, with no temp files left in the store", async () => {
  const ws = await workspace();
  const src = join(ws.root, "data");
  await sampleTree(src);
  // Over 1 MiB, so it is copied in chunks rather than read whole.
  await writeFile(join(src, "large.bin"), Buffer.alloc(1536 * 1024, 7));
  const stored = await storePath(ws, src);
  const blobs = ["raw/a.csv", "large.bin"].map(async (rel) =>
    objectPath(ws, (await hashPath(join(src, rel))).oid),
  );
  const paths = await Promise.all(blobs);
  const first = await Promise.all(paths.map((p) => stat(p)));
  assert.deepEqual(
    first.map((st) => st.mode & 0o777),
    [0o444, 0o444],
  );

  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await storePath(ws, src), stored);
  const second = await Promise.all(paths.map((p) => stat(p)));
  assert.deepEqual(
    second.map((st) => [st.ino, st.mtimeMs]),
    first.map((st) => [st.ino, st.mtimeMs]),
  );
  const restored = join(ws.root, "restored");
  await restorePath(ws, stored.oid, restored);
  assert.deepEqual(await readFile(join(restored, "large.bin")), Buffer.alloc(1536 * 1024, 7));
  const leftovers = (await readdir(ws.objectsDir)).filter((n) => n.endsWith(".tmp"));
  assert.deepEqual(leftovers, []);
  await removeDir(ws.root);
});

void test("an empty directory stores as git's empty tree and restores as an empty directory", async () => {
  const ws = await workspace();
  const src = join(ws.root, "empty");
  await mkdir(src);
  const stored = await storePath(ws, src);
  assert.equal(stored.oid, EMPTY_TREE_OID);
  const dest = join(ws.root, "again");
  await restorePath(ws, stored.oid, dest);
  assert.deepEqual(await readdir(dest), []);
  await removeDir(ws.root);
});

void test("verifyObject tells blobs from trees and detects a damaged object", async () => {
  const ws = await workspace();
  const src = join(ws.root, "data");
  await sampleTree(src);
  const stored = await storePath(ws, src);
  const fileOid = (await hashPath(join(src, "raw/a.csv"))).oid;
  assert.equal(await verifyObject(ws, stored.oid), "tree");
  assert.equal(await verifyObject(ws, fileOid), "blob");

  const path = objectPath(ws, fileOid);
  await chmod(path, 0o644);
  await writeFile(path, "x,y\n1,3\n");
  await assert.rejects(verifyObject(ws, fileOid), (err: Error & { code?: string }) => {
    assert.equal(err.code, "LATHE_CORRUPT");
    assert.match(err.message, new RegExp(fileOid));
    return true;
  });

  // A restore verifies while it copies, and leaves the destination as it was.
  const dest = join(ws.root, "restored");
  await assert.rejects(restorePath(ws, stored.oid, dest), codeOf("LATHE_CORRUPT"));
  await assert.rejects(lstat(dest), codeOf("ENOENT"));
  assert.deepEqual((await readdir(ws.root)).sort(), [".lathe", "data"]);
  await removeDir(ws.root);
});

void test("a missing object is LATHE_NOT_FOUND and a malformed id LATHE_BAD_INPUT", async () => {
  const ws = await workspace();
  const absent = "ab".repeat(32);
  await assert.rejects(verifyObject(ws, absent), codeOf("LATHE_NOT_FOUND"));
  await assert.rejects(restorePath(ws, absent, join(ws.root, "x")), codeOf("LATHE_NOT_FOUND"));
  await assert.rejects(restorePath(ws, "not-an-id", join(ws.root, "x")), codeOf("LATHE_BAD_INPUT"));
  await removeDir(ws.root);
});

void test("a hand-made tree whose entry names climb out of the destination is refused", async () => {
  const ws = await workspace();
  const src = join(ws.root, "f");
  await writeFile(src, "payload");
  const blob = await storePath(ws, src);
  const body = encodeTree([{ mode: "100644", name: Buffer.from(".."), oid: blob.oid }]);
  const evil = hashBytes("tree", body);
  await mkdir(join(objectPath(ws, evil), ".."), { recursive: true });
  await writeFile(objectPath(ws, evil), body);

  await assert.rejects(restorePath(ws, evil, join(ws.root, "out/dir")), (err: Error) => {
    assert.match(err.message, /entry named '\.\.'/);
    return true;
  });
  assert.deepEqual(await readdir(join(ws.root, "out")), []);
  await removeDir(ws.root);
});
