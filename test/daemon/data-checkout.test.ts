// `lathe checkout` against real files, a real content store and real git. Spawns the built CLI:
// run `node scripts/build.mjs --quiet` first.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  chmod,
  mkdir,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { DataCheckout } from "../../schemas/api";
import { hashPath } from "../../daemon/src/data/hash";
import { objectPath } from "../../daemon/src/data/objects";
import { workspaceAt } from "../../daemon/src/workspace";
import { removeDir, runCli, tempDir } from "../helpers";

/** A workspace with data/a.csv and the folder data/set (nested, one executable file), added. */
async function addedWorkspace(): Promise<string> {
  const root = await tempDir();
  assert.equal((await runCli(["init"], { cwd: root })).code, 0);
  await mkdir(join(root, "data/set/nested/deeper"), { recursive: true });
  await writeFile(join(root, "data/a.csv"), "x,y\n1,2\n");
  await writeFile(join(root, "data/set/one.bin"), Buffer.from([0, 1, 2, 255]));
  await writeFile(join(root, "data/set/nested/deeper/two.txt"), "two\n");
  await writeFile(join(root, "data/set/run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(join(root, "data/set/run.sh"), 0o755);
  const add = await runCli(["add", "data/a.csv", "data/set"], { cwd: root });
  assert.equal(add.code, 0, add.stderr);
  return root;
}

async function checkoutJson(root: string, args: string[]) {
  const res = await runCli(["--json", "checkout", ...args], { cwd: root });
  const entries = res.stdout ? (JSON.parse(res.stdout) as DataCheckout) : [];
  return { ...res, entries, actions: Object.fromEntries(entries.map((e) => [e.path, e.action])) };
}

function git(root: string, ...args: string[]): string {
  const identity = ["-c", "user.email=t@t", "-c", "user.name=t", "-c", "init.defaultBranch=main"];
  return execFileSync("git", [...identity, ...args], { cwd: root, encoding: "utf8" });
}

void test("checkout restores a deleted file and a deleted folder byte for byte", async () => {
  const root = await addedWorkspace();
  try {
    const fileBefore = await hashPath(join(root, "data/a.csv"));
    const setBefore = await hashPath(join(root, "data/set"));
    await rm(join(root, "data/a.csv"));
    await rm(join(root, "data/set"), { recursive: true });

    const res = await runCli(["checkout"], { cwd: root });

    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^restored data\/a\.csv \([0-9a-f]{12}\)$/m);
    assert.match(res.stdout, /^restored data\/set \([0-9a-f]{12}\)$/m);
    assert.match(res.stdout, /^checkout: 2 restored, 0 up to date\.$/m);
    assert.equal(await readFile(join(root, "data/a.csv"), "utf8"), "x,y\n1,2\n");
    assert.deepEqual(await readFile(join(root, "data/set/one.bin")), Buffer.from([0, 1, 2, 255]));
    assert.equal(await readFile(join(root, "data/set/nested/deeper/two.txt"), "utf8"), "two\n");
    assert.equal((await stat(join(root, "data/set/run.sh"))).mode & 0o777, 0o755);
    assert.equal((await stat(join(root, "data/set/one.bin"))).mode & 0o111, 0);
    assert.deepEqual(await hashPath(join(root, "data/a.csv")), fileBefore);
    assert.deepEqual(await hashPath(join(root, "data/set")), setBefore);
  } finally {
    await removeDir(root);
  }
});

void test("up-to-date data is left untouched, and --json lists every pointer", async () => {
  const root = await addedWorkspace();
  try {
    const past = new Date("2020-01-01T00:00:00Z");
    await utimes(join(root, "data/a.csv"), past, past);
    await utimes(join(root, "data/set/one.bin"), past, past);
    const before = (await stat(join(root, "data/a.csv"))).mtimeMs;

    const res = await checkoutJson(root, []);

    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      res.entries.map(({ path, pointer, action, message }) => ({ path, pointer, action, message })),
      [
        {
          path: "data/a.csv",
          pointer: "data/a.csv.lathe",
          action: "up-to-date",
          message: "up to date",
        },
        {
          path: "data/set",
          pointer: "data/set.lathe",
          action: "up-to-date",
          message: "up to date",
        },
      ],
    );
    assert.equal(res.entries[0]!.oid, (await hashPath(join(root, "data/a.csv"))).oid);
    assert.equal((await stat(join(root, "data/a.csv"))).mtimeMs, before);
    assert.equal((await stat(join(root, "data/set/one.bin"))).mtimeMs, past.getTime());
  } finally {
    await removeDir(root);
  }
});

void test("a modified file is refused without --force and overwritten with it", async () => {
  const root = await addedWorkspace();
  try {
    await writeFile(join(root, "data/a.csv"), "my unsaved edit\n");

    const refused = await runCli(["checkout"], { cwd: root });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stdout,
      /^refused: data\/a\.csv has changes no pointer records .*'lathe add data\/a\.csv'.*'lathe checkout --force data\/a\.csv'/m,
    );
    assert.match(refused.stderr, /checkout did not restore 1 path: data\/a\.csv\./);
    assert.equal(await readFile(join(root, "data/a.csv"), "utf8"), "my unsaved edit\n");

    const forced = await checkoutJson(root, ["--force", "data/a.csv"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(forced.actions, { "data/a.csv": "restored" });
    assert.equal(await readFile(join(root, "data/a.csv"), "utf8"), "x,y\n1,2\n");
  } finally {
    await removeDir(root);
  }
});

void test("a file deleted or added inside a folder: only what the cache lacks is refused", async () => {
  const root = await addedWorkspace();
  try {
    // Only a deletion: every remaining byte is in the cache, so nothing is lost.
    await rm(join(root, "data/set/nested/deeper/two.txt"));
    const restored = await checkoutJson(root, ["data/set"]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(restored.actions, { "data/set": "restored" });
    assert.equal(await readFile(join(root, "data/set/nested/deeper/two.txt"), "utf8"), "two\n");

    await writeFile(join(root, "data/set/new.txt"), "new\n");
    const refused = await checkoutJson(root, ["data/set"]);
    assert.equal(refused.code, 1);
    assert.match(refused.entries[0]!.message, /data\/set\/new\.txt is not in \.lathe\/cache/);
    assert.ok(existsSync(join(root, "data/set/new.txt")));
  } finally {
    await removeDir(root);
  }
});

void test("paths select pointers by data path, pointer path or folder; untracked is exit 2", async () => {
  const root = await addedWorkspace();
  try {
    await rm(join(root, "data/a.csv"));
    await rm(join(root, "data/set"), { recursive: true });

    const byPointer = await checkoutJson(root, ["data/a.csv.lathe"]);
    assert.deepEqual(byPointer.actions, { "data/a.csv": "restored" });
    assert.equal(existsSync(join(root, "data/set")), false);

    const byFolder = await checkoutJson(root, ["data"]);
    assert.deepEqual(byFolder.actions, { "data/a.csv": "up-to-date", "data/set": "restored" });

    await rm(join(root, "data/a.csv"));
    await writeFile(join(root, "notes.txt"), "not versioned\n");
    const untracked = await runCli(["checkout", "data/a.csv", "notes.txt"], { cwd: root });
    assert.equal(untracked.code, 2);
    assert.match(untracked.stderr, /Cannot check out 'notes\.txt': no pointer file/);
    assert.equal(existsSync(join(root, "data/a.csv")), false, "nothing is done on bad input");

    const outside = await runCli(["checkout", "../elsewhere"], { cwd: root });
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /Cannot check out '\.\.\/elsewhere': it resolves to .*outside/);
  } finally {
    await removeDir(root);
  }
});

void test("--rev HEAD~1 brings back the version committed before the last lathe add", async () => {
  const root = await addedWorkspace();
  try {
    git(root, "init", "-q");
    git(root, "add", ".");
    git(root, "commit", "-qm", "v1");
    await writeFile(join(root, "data/a.csv"), "x,y\n1,2\n3,4\n");
    assert.equal((await runCli(["add", "data/a.csv"], { cwd: root })).code, 0);
    git(root, "commit", "-qam", "v2");

    const old = await checkoutJson(root, ["--rev", "HEAD~1"]);
    assert.equal(old.code, 0, old.stderr);
    assert.deepEqual(old.actions, { "data/a.csv": "restored", "data/set": "up-to-date" });
    assert.equal(await readFile(join(root, "data/a.csv"), "utf8"), "x,y\n1,2\n");
    assert.equal(git(root, "status", "--porcelain"), "", "pointers and .gitignore unchanged");

    // Back to the pointer in the workspace: the older bytes are in the cache, so no --force.
    const current = await checkoutJson(root, ["data/a.csv"]);
    assert.deepEqual(current.actions, { "data/a.csv": "restored" });
    assert.equal(await readFile(join(root, "data/a.csv"), "utf8"), "x,y\n1,2\n3,4\n");
  } finally {
    await removeDir(root);
  }
});

void test("--rev that names no commit, or outside a git repository, is exit 2 naming it", async () => {
  const root = await addedWorkspace();
  try {
    const noRepo = await runCli(["checkout", "--rev", "HEAD"], { cwd: root });
    assert.equal(noRepo.code, 2);
    assert.match(noRepo.stderr, /--rev HEAD: .* is not in a git repository/);

    git(root, "init", "-q");
    git(root, "add", ".");
    git(root, "commit", "-qm", "v1");
    const unknown = await runCli(["--json", "checkout", "--rev", "no-such-branch"], { cwd: root });
    assert.equal(unknown.code, 2);
    const error = (JSON.parse(unknown.stderr) as { error: { code: string; message: string } })
      .error;
    assert.equal(error.code, "LATHE_BAD_INPUT");
    assert.match(error.message, /--rev no-such-branch: unknown revision/);

    const option = await runCli(["checkout", "--rev=--output=x"], { cwd: root });
    assert.equal(option.code, 2);
    assert.equal(existsSync(join(root, "x")), false);
  } finally {
    await removeDir(root);
  }
});

void test("an object missing from the cache is exit 1 naming the path; the rest is restored", async () => {
  const root = await addedWorkspace();
  try {
    git(root, "init", "-q");
    git(root, "add", ".");
    git(root, "commit", "-qm", "v1");
    const oid = (await hashPath(join(root, "data/a.csv"))).oid;
    await rm(objectPath(workspaceAt(root), oid));
    await rm(join(root, "data/a.csv"));
    await rm(join(root, "data/set"), { recursive: true });

    const res = await checkoutJson(root, ["--rev", "HEAD"]);

    assert.equal(res.code, 1, res.stderr);
    assert.deepEqual(res.actions, { "data/a.csv": "missing-object", "data/set": "restored" });
    const entry = res.entries[0]!;
    assert.equal(entry.oid, oid);
    assert.match(entry.message, new RegExp(`data/a\\.csv needs ${oid}.*not in \\.lathe/cache`));
    assert.match(res.stderr, /data\/a\.csv/);
    assert.ok(existsSync(join(root, "data/set/run.sh")));
  } finally {
    await removeDir(root);
  }
});

void test("a pointer whose path leaves the workspace is an error naming the pointer file", async () => {
  const root = await addedWorkspace();
  try {
    const pointer = await readFile(join(root, "data/a.csv.lathe"), "utf8");
    await writeFile(
      join(root, "data/evil.lathe"),
      pointer.replace("path: a.csv", "path: ../../etc/passwd"),
    );
    // A plain name passes the pointer's own check, but checkout never writes Lathe's state.
    await writeFile(join(root, "state.lathe"), pointer.replace("path: a.csv", "path: .lathe"));
    await rm(join(root, "data/set"), { recursive: true });

    const res = await checkoutJson(root, []);

    assert.equal(res.code, 2);
    const state = res.entries.find((e) => e.pointer === "state.lathe")!;
    assert.equal(state.action, "error");
    assert.match(state.message, /^state\.lathe: field 'path' \("\.lathe"\) names .*\.lathe\//);
    assert.ok(existsSync(join(root, ".lathe/cache/objects")));
    assert.equal(res.actions["data/evil"], "error");
    const evil = res.entries.find((e) => e.pointer === "data/evil.lathe")!;
    assert.match(evil.message, /data\/evil\.lathe:\d+:\d+: field 'path'/);
    assert.equal(res.actions["data/set"], "restored", "other pointers are still checked out");
    const text = await runCli(["checkout"], { cwd: root });
    assert.equal(text.code, 2);
    assert.match(text.stderr, /evil\.lathe/);
  } finally {
    await removeDir(root);
  }
});

void test("--rev never writes through a symlinked folder that leads outside the workspace", async () => {
  const root = await addedWorkspace();
  const outside = await tempDir();
  try {
    git(root, "init", "-q");
    git(root, "add", ".");
    git(root, "commit", "-qm", "v1");
    await rm(join(root, "data"), { recursive: true });
    await symlink(outside, join(root, "data"));

    const res = await checkoutJson(root, ["--rev", "HEAD"]);

    assert.equal(res.code, 2, res.stderr);
    assert.deepEqual(res.actions, { "data/a.csv": "error", "data/set": "error" });
    assert.match(
      res.entries[0]!.message,
      /^data\/a\.csv\.lathe: its data's folder is a symlink to /,
    );
    assert.deepEqual(await readdir(outside), []);
  } finally {
    await removeDir(root);
    await removeDir(outside);
  }
});
