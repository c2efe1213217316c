import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFile, chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  EMPTY_BLOB_OID,
  EMPTY_TREE_OID,
  hashFile,
  hashFileWith,
  hashPath,
} from "../../daemon/src/data/hash";
import { removeDir, tempDir } from "../helpers";

/** A real git repository in SHA-256 mode: the reference every id is checked against. */
function gitInit(dir: string): void {
  execFileSync("git", ["init", "-q", "--object-format=sha256"], { cwd: dir });
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
}

function gitWriteTree(dir: string): string {
  git(dir, "add", "-A");
  return git(dir, "write-tree");
}

/** Deterministic bytes that are not a repeating pattern, so chunk boundaries matter. */
function pseudoRandomBytes(length: number, seed = 7): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

void test("file ids match git hash-object: empty, every byte value, several MiB", async () => {
  const dir = await tempDir();
  gitInit(dir);
  const files: Record<string, Buffer> = {
    "empty.bin": Buffer.alloc(0),
    "bytes.bin": Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    "big.bin": pseudoRandomBytes(5 * 1024 * 1024 + 123),
    "text.csv": Buffer.from("a,b\n1,2\n"),
  };

  for (const [name, bytes] of Object.entries(files)) {
    const abs = join(dir, name);
    await writeFile(abs, bytes);
    const ours = await hashFile(abs);
    assert.equal(ours.oid, git(dir, "hash-object", abs), name);
    assert.equal(ours.size, bytes.length, name);
    assert.deepEqual(await hashPath(abs), { ...ours, files: 1, kind: "file" });
  }
  assert.equal((await hashFile(join(dir, "empty.bin"))).oid, EMPTY_BLOB_OID);
  await removeDir(dir);
});

void test("directory ids match git write-tree: nesting, modes, symlinks, git's sort order", async () => {
  const dir = await tempDir();
  gitInit(dir);
  const put = async (rel: string, text: string): Promise<void> => {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), text);
  };

  // '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0' (0x30): the directory 'a' sorts as 'a/'.
  for (const name of ["a-b", "a.b", "a0", "a=", "b", "ü.txt", "with space"]) {
    await put(name, `file ${name}\n`);
  }
  await put("a/inner.txt", "inner\n");
  await put("a/deeper/more/leaf.txt", "leaf\n");
  await put("b.d/x", "x\n");
  await put("bin/run.sh", "#!/bin/sh\necho hi\n");
  await chmod(join(dir, "bin/run.sh"), 0o755);
  await symlink("a/inner.txt", join(dir, "link-to-inner"));
  await symlink("does/not/exist", join(dir, "a/dangling"));
  await mkdir(join(dir, "empty/also-empty"), { recursive: true });

  const ours = await hashPath(dir);
  assert.equal(ours.oid, gitWriteTree(dir));
  assert.equal(ours.kind, "dir");
  assert.equal(ours.files, 13); // 7 top-level files, 4 nested files, 2 symlinks
  await removeDir(dir);
});

void test("subdirectory ids match git's tree for that subdirectory", async () => {
  const dir = await tempDir();
  gitInit(dir);
  await mkdir(join(dir, "data/raw"), { recursive: true });
  await writeFile(join(dir, "data/raw/one.csv"), "1\n");
  await writeFile(join(dir, "data/two.csv"), "2\n");
  gitWriteTree(dir);

  const sub = await hashPath(join(dir, "data"));
  assert.equal(sub.oid, git(dir, "rev-parse", `${git(dir, "write-tree")}:data`));
  assert.deepEqual({ size: sub.size, files: sub.files }, { size: 4, files: 2 });
  await removeDir(dir);
});

void test("an empty directory is git's empty tree; .lathe and .git are left out", async () => {
  const dir = await tempDir();
  assert.deepEqual(await hashPath(dir), { oid: EMPTY_TREE_OID, size: 0, files: 0, kind: "dir" });

  gitInit(dir);
  await writeFile(join(dir, "keep.txt"), "keep\n");
  const before = await hashPath(dir);
  await mkdir(join(dir, ".lathe/cache"), { recursive: true });
  await writeFile(join(dir, ".lathe/cache/x"), "state\n");
  await mkdir(join(dir, "sub/.git"), { recursive: true });
  await writeFile(join(dir, "sub/.git/HEAD"), "ref\n");
  await writeFile(join(dir, "sub/file"), "f\n");
  await writeFile(join(dir, ".git/info/exclude"), ".lathe\nsub/.git\n");

  const after = await hashPath(dir);
  assert.notEqual(after.oid, before.oid);
  // git itself treats sub/.git as a nested repository, so compare with a copy without it.
  const expected = await tempDir();
  gitInit(expected);
  await writeFile(join(expected, "keep.txt"), "keep\n");
  await mkdir(join(expected, "sub"));
  await writeFile(join(expected, "sub/file"), "f\n");
  assert.equal(after.oid, gitWriteTree(expected));
  await removeDir(dir);
  await removeDir(expected);
});

void test("names that are not UTF-8 are hashed as bytes, as git write-tree does", async () => {
  const dir = await tempDir();
  gitInit(dir);
  const latin1 = Buffer.concat([Buffer.from("caf"), Buffer.from([0xe9]), Buffer.from(".csv")]);
  const invalid = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]);
  await writeFile(Buffer.concat([Buffer.from(`${dir}/`), latin1]), "x,y\n");
  await mkdir(Buffer.concat([Buffer.from(`${dir}/`), invalid]));
  await writeFile(Buffer.concat([Buffer.from(`${dir}/`), invalid, Buffer.from("/inner")]), "in\n");
  await writeFile(join(dir, "café.csv"), "utf-8 name\n");

  const ours = await hashPath(dir);

  assert.equal(ours.oid, gitWriteTree(dir));
  assert.equal(ours.files, 3);
  await removeDir(dir);
});

void test("a file that grows while it is read has no id: LATHE_CONFLICT naming it", async () => {
  const dir = await tempDir();
  const abs = join(dir, "growing.log");
  await writeFile(abs, Buffer.alloc(3 * 1024 * 1024));
  let appended = false;
  const grow = async (): Promise<void> => {
    if (!appended) {
      appended = true;
      await appendFile(abs, "more");
    }
  };
  await assert.rejects(hashFileWith(abs, grow), (err: Error & { code?: string }) => {
    assert.equal(err.code, "LATHE_CONFLICT");
    assert.match(err.message, /growing\.log changed while it was being read/);
    return true;
  });
  await removeDir(dir);
});

void test("a missing path is LATHE_NOT_FOUND naming it", async () => {
  const dir = await tempDir();
  const missing = join(dir, "nope.csv");
  await assert.rejects(hashPath(missing), (err: Error & { code?: string }) => {
    assert.equal(err.code, "LATHE_NOT_FOUND");
    assert.match(err.message, /nope\.csv does not exist/);
    return true;
  });
  await removeDir(dir);
});
