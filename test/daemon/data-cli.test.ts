import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { parse } from "yaml";
import { hashPath } from "../../daemon/src/data/hash";
import { objectPath } from "../../daemon/src/data/objects";
import { verifyObject } from "../../daemon/src/data/store";
import { workspaceAt } from "../../daemon/src/workspace";
import { removeDir, runCli, tempDir } from "../helpers";

// These spawn the built CLI: run `node scripts/build.mjs --quiet` first.

async function initedWorkspace(): Promise<string> {
  const root = await tempDir();
  const init = await runCli(["init"], { cwd: root });
  assert.equal(init.code, 0, init.stderr);
  return root;
}

function jsonError(stderr: string): { code: string; message: string; data: unknown } {
  return (JSON.parse(stderr) as { error: { code: string; message: string; data: unknown } }).error;
}

void test("init creates .lathe/, git-ignores it once, and is fine to run twice", async () => {
  const root = await tempDir();
  const first = await runCli(["--json", "init"], { cwd: root });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { root, created: true, gitignoreUpdated: true });
  assert.ok(existsSync(join(root, ".lathe/cache/objects")));

  const second = await runCli(["init"], { cwd: root });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /already a Lathe workspace/);
  assert.match(second.stdout, /lathe add/);
  assert.equal(await readFile(join(root, ".gitignore"), "utf8"), "/.lathe/\n");
  await removeDir(root);
});

void test("add stores a file and a folder, writes pointers and git-ignores the data", async () => {
  const root = await initedWorkspace();
  await mkdir(join(root, "data/images"), { recursive: true });
  await writeFile(join(root, "data/train.csv"), "x,y\n1,2\n");
  await writeFile(join(root, "data/images/1.png"), Buffer.from([137, 80, 78, 71]));
  await writeFile(join(root, "data/.gitignore"), "*.tmp");

  const res = await runCli(["--json", "add", "data/train.csv", "data/images"], { cwd: root });
  assert.equal(res.code, 0, res.stderr);
  const { added } = JSON.parse(res.stdout) as { added: { oid: string; unchanged: boolean }[] };
  assert.equal(added.length, 2);

  const pointer = parse(await readFile(join(root, "data/train.csv.lathe"), "utf8")) as unknown;
  const expected = await hashPath(join(root, "data/train.csv"));
  assert.deepEqual(pointer, { ...expected, path: "train.csv" });
  const dirPointer = parse(await readFile(join(root, "data/images.lathe"), "utf8")) as unknown;
  assert.deepEqual(dirPointer, { ...(await hashPath(join(root, "data/images"))), path: "images" });

  // The existing .gitignore had no final newline; both lines are appended, once.
  assert.equal(
    await readFile(join(root, "data/.gitignore"), "utf8"),
    "*.tmp\n/train.csv\n/images\n",
  );
  const ws = workspaceAt(root);
  assert.equal(await verifyObject(ws, expected.oid), "blob");
  assert.equal(await verifyObject(ws, added[1]!.oid), "tree");
  await removeDir(root);
});

void test("adding unchanged data is a no-op that says so; changed data updates the pointer", async () => {
  const root = await initedWorkspace();
  await writeFile(join(root, "a.csv"), "1\n");
  assert.equal((await runCli(["add", "a.csv"], { cwd: root })).code, 0);
  const pointerBefore = await readFile(join(root, "a.csv.lathe"), "utf8");

  const again = await runCli(["add", "a.csv"], { cwd: root });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /a\.csv unchanged/);
  assert.equal(await readFile(join(root, "a.csv.lathe"), "utf8"), pointerBefore);
  assert.equal(await readFile(join(root, ".gitignore"), "utf8"), "/.lathe/\n/a.csv\n");

  await writeFile(join(root, "a.csv"), "2\n");
  const changed = await runCli(["--json", "add", "a.csv"], { cwd: root });
  const [result] = (JSON.parse(changed.stdout) as { added: { oid: string; unchanged: boolean }[] })
    .added;
  assert.equal(result?.unchanged, false);
  assert.equal(result?.oid, (await hashPath(join(root, "a.csv"))).oid);
  assert.ok(existsSync(objectPath(workspaceAt(root), result.oid)));
  await removeDir(root);
});

void test("add resolves paths from the current folder, not the workspace root", async () => {
  const root = await initedWorkspace();
  await mkdir(join(root, "data"));
  await writeFile(join(root, "data/x.csv"), "x\n");
  const res = await runCli(["add", "x.csv"], { cwd: join(root, "data") });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(existsSync(join(root, "data/x.csv.lathe")));
  await removeDir(root);
});

void test("add of a missing path exits 2 naming it", async () => {
  const root = await initedWorkspace();
  const text = await runCli(["add", "data/nope.csv"], { cwd: root });
  assert.equal(text.code, 2);
  assert.match(text.stderr, /data\/nope\.csv does not exist/);

  const json = await runCli(["--json", "add", "data/nope.csv"], { cwd: root });
  assert.equal(json.code, 2);
  assert.equal(jsonError(json.stderr).code, "LATHE_BAD_INPUT");
  await removeDir(root);
});

void test("add refuses paths outside the workspace, through a symlink, or Lathe's own", async () => {
  const root = await initedWorkspace();
  const outside = await tempDir();
  await writeFile(join(outside, "secret.csv"), "s\n");
  await symlink(join(outside, "secret.csv"), join(root, "link.csv"));
  await writeFile(join(root, "a.csv"), "a\n");
  await runCli(["add", "a.csv"], { cwd: root });

  const cases: [string, RegExp][] = [
    ["../x", /'\.\.\/x'.*outside the workspace/],
    [join(outside, "secret.csv"), /outside the workspace/],
    ["link.csv", /symlink to .*secret\.csv, outside the workspace/],
    [".", /that is the workspace itself/],
    [".lathe", /inside \.lathe\/ or \.git\//],
    ["a.csv.lathe", /is a pointer file; add the data it points to \(a\.csv\)/],
  ];
  for (const [path, message] of cases) {
    const res = await runCli(["add", path], { cwd: root });
    assert.equal(res.code, 2, `${path}: ${res.stderr}`);
    assert.match(res.stderr, message, path);
  }
  assert.equal(existsSync(join(root, "link.csv.lathe")), false);
  await removeDir(root);
  await removeDir(outside);
});

void test("add refuses data inside a folder that is versioned already", async () => {
  const root = await initedWorkspace();
  await mkdir(join(root, "data"));
  await writeFile(join(root, "data/x.csv"), "x\n");
  assert.equal((await runCli(["add", "data"], { cwd: root })).code, 0);
  const res = await runCli(["--json", "add", "data/x.csv"], { cwd: root });
  assert.equal(res.code, 2);
  const error = jsonError(res.stderr);
  assert.equal(error.code, "LATHE_CONFLICT");
  assert.match(error.message, /inside data, which is versioned already/);
  await removeDir(root);
});

void test("add refuses a folder that holds data versioned on its own", async () => {
  const root = await initedWorkspace();
  await mkdir(join(root, "data/raw"), { recursive: true });
  await writeFile(join(root, "data/raw/x.csv"), "x\n");
  assert.equal((await runCli(["add", "data/raw/x.csv"], { cwd: root })).code, 0);
  const res = await runCli(["--json", "add", "data"], { cwd: root });
  assert.equal(res.code, 2);
  const error = jsonError(res.stderr);
  assert.equal(error.code, "LATHE_CONFLICT");
  assert.match(error.message, /holds data\/raw\/x\.csv, which is versioned on its own/);
  assert.equal(existsSync(join(root, "data.lathe")), false);
  await removeDir(root);
});

void test("re-adding data remembers each file's stat, so an unchanged file is not read again", async () => {
  const root = await initedWorkspace();
  const file = join(root, "old.csv");
  await writeFile(file, "a,b\n1,2\n");
  const past = new Date(Date.now() - 60_000);
  await utimes(file, past, past);
  assert.equal((await runCli(["add", "old.csv"], { cwd: root })).code, 0);
  // utimes set the ctime to now; a file changed in the last 2 s is not cached (racy-git rule).
  await new Promise((r) => setTimeout(r, 2100));
  const again = await runCli(["--json", "add", "old.csv"], { cwd: root });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    (JSON.parse(again.stdout) as { added: { unchanged: boolean }[] }).added[0]!.unchanged,
    true,
  );
  const db = new Database(join(root, ".lathe/lathe.db"), { readonly: true });
  const row = db.prepare("SELECT oid FROM hash_cache WHERE path = ?").get(file) as { oid: string };
  db.close();
  assert.equal(row.oid, (await hashPath(file)).oid);
  await removeDir(root);
});

void test("add with a malformed pointer names the file and the field", async () => {
  const root = await initedWorkspace();
  await writeFile(join(root, "a.csv"), "a\n");
  await writeFile(
    join(root, "a.csv.lathe"),
    "oid: abc\nsize: 2\nfiles: 1\nkind: file\npath: a.csv\n",
  );
  const res = await runCli(["--json", "add", "a.csv"], { cwd: root });
  assert.equal(res.code, 2);
  const error = jsonError(res.stderr);
  assert.equal(error.code, "LATHE_BAD_FILE");
  assert.match(error.message, /a\.csv\.lathe:1:6: field 'oid' is "abc"; expected 64 hex digits/);
  await removeDir(root);
});

void test("add outside any workspace exits 2 and suggests lathe init", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "a.csv"), "a\n");
  const res = await runCli(["add", "a.csv"], { cwd: dir });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /lathe init/);
  await removeDir(dir);
});

void test("hash prints what git prints, without a workspace; --json has the details", async () => {
  const dir = await tempDir();
  execFileSync("git", ["init", "-q", "--object-format=sha256"], { cwd: dir });
  await mkdir(join(dir, "d"));
  await writeFile(join(dir, "d/f.bin"), Buffer.from([0, 1, 2]));

  const file = await runCli(["hash", "d/f.bin"], { cwd: dir });
  assert.equal(file.code, 0, file.stderr);
  const gitOid = execFileSync("git", ["hash-object", "d/f.bin"], { cwd: dir, encoding: "utf8" });
  assert.equal(file.stdout, gitOid);

  const tree = await runCli(["--json", "hash", "d"], { cwd: dir });
  execFileSync("git", ["add", "-A"], { cwd: dir });
  const root = execFileSync("git", ["write-tree"], { cwd: dir, encoding: "utf8" }).trim();
  const sub = execFileSync("git", ["rev-parse", `${root}:d`], { cwd: dir, encoding: "utf8" });
  assert.deepEqual(JSON.parse(tree.stdout), { oid: sub.trim(), size: 3, files: 1, kind: "dir" });

  const missing = await runCli(["hash", "nope.bin"], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.bin does not exist/);
  assert.equal(existsSync(join(dir, ".lathe")), false);
  await removeDir(dir);
});
