import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ReproResult, RunDetail } from "../../schemas/api";
import { removeDir, runCli, tempDir, type CliResult } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// These spawn the built CLI: run `npm run build` first.

/**
 * A temporary folder holding the workspace `ws/` (with .lathe/) and, beside it, files the
 * pipeline must never touch: `victim/precious` and `outside.txt`.
 */
async function besideVictim(): Promise<{ base: string; root: string }> {
  const base = await tempDir("lathe-symlinks-");
  const root = join(base, "ws");
  writeFiles(base, { "victim/precious": "keep\n", "outside.txt": "secret\n" });
  mkdirSync(root);
  assert.equal((await runCli(["init"], { cwd: root })).code, 0);
  return { base, root };
}

function repro(root: string, yaml: string, ...args: string[]): Promise<CliResult> {
  writeFiles(root, { "lathe.yaml": yaml });
  return runCli(["--json", "repro", ...args], { cwd: root });
}

function refusal(res: CliResult): { code: string; message: string } {
  assert.equal(res.code, 2, res.stdout + res.stderr);
  return (JSON.parse(res.stderr) as { error: { code: string; message: string } }).error;
}

void test("repro never deletes through a symlinked folder that leaves the workspace", async () => {
  const { base, root } = await besideVictim();
  symlinkSync("../victim", join(root, "v"));

  const res = await repro(root, "stages:\n  s:\n    cmd: echo hi\n    outs: [v/precious]\n");
  const error = refusal(res);
  assert.equal(error.code, "LATHE_FORBIDDEN");
  assert.match(
    error.message,
    /^lathe\.yaml:4:12: stage 's': 'outs' path 'v\/precious' leads outside the workspace through the symlink v -> \/.*\/victim; Lathe does not delete, write or read outside /,
  );
  assert.equal(readFileSync(join(base, "victim/precious"), "utf8"), "keep\n");
  await removeDir(base);
});

void test("a stage whose upstream stage made the symlink is refused before its outs are deleted", async () => {
  const { base, root } = await besideVictim();
  const yaml = `stages:
  link:
    cmd: ln -s ../victim v && echo a > a.txt
    outs: [a.txt]
  use:
    cmd: "true"
    deps: [a.txt]
    outs: [v/precious]
`;
  const res = await repro(root, yaml);
  assert.equal(res.code, 2, res.stderr);
  assert.match(refusal(res).message, /stage 'use': 'outs' path 'v\/precious' leads outside/);
  assert.equal(readFileSync(join(base, "victim/precious"), "utf8"), "keep\n");
  await removeDir(base);
});

void test("repro neither writes nor restores from the run cache through a symlink that leaves", async () => {
  const { base, root } = await besideVictim();
  const yaml = `stages:
  s:
    cmd: mkdir -p sub && cp in.txt sub/leak.txt
    deps: [in.txt]
    outs: [sub/leak.txt]
`;
  writeFiles(root, { "in.txt": "1\n" });
  assert.equal((await repro(root, yaml)).code, 0);
  writeFiles(root, { "in.txt": "2\n" });
  assert.equal((await repro(root, yaml)).code, 0);

  // Back to the first input, whose run the cache holds, with `sub` now leading outside.
  writeFiles(root, { "in.txt": "1\n" });
  await removeDir(join(root, "sub"));
  symlinkSync("../victim", join(root, "sub"));
  const restore = refusal(await repro(root, yaml));
  assert.equal(restore.code, "LATHE_FORBIDDEN");
  assert.match(restore.message, /'outs' path 'sub\/leak\.txt' leads outside the workspace/);
  assert.equal(existsSync(join(base, "victim/leak.txt")), false);

  const write = refusal(await repro(root, yaml, "--force"));
  assert.match(write.message, /through the symlink sub -> /);
  assert.equal(existsSync(join(base, "victim/leak.txt")), false);
  await removeDir(base);
});

void test("repro and status never read or hash a dep through a symlink that leaves", async () => {
  const { base, root } = await besideVictim();
  symlinkSync("..", join(root, "up"));
  const yaml =
    "stages:\n  s:\n    cmd: echo hi > o.txt\n    deps: [up/outside.txt]\n    outs: [o.txt]\n";

  const error = refusal(await repro(root, yaml));
  assert.equal(error.code, "LATHE_FORBIDDEN");
  assert.match(
    error.message,
    /^lathe\.yaml:4:12: stage 's': 'deps' path 'up\/outside\.txt' leads outside the workspace through the symlink up -> /,
  );
  assert.equal(existsSync(join(root, "o.txt")), false);

  const status = await runCli(["status"], { cwd: root });
  assert.equal(status.code, 2, status.stdout);
  assert.match(status.stderr, /'deps' path 'up\/outside\.txt' leads outside the workspace/);
  await removeDir(base);
});

void test("a wdir that leaves the workspace through a symlink is refused; its cmd never runs", async () => {
  const { base, root } = await besideVictim();
  symlinkSync("..", join(root, "up"));
  const yaml = "stages:\n  s:\n    cmd: echo hi > made.txt\n    wdir: up\n    outs: [made.txt]\n";

  const error = refusal(await repro(root, yaml));
  assert.equal(error.code, "LATHE_FORBIDDEN");
  assert.match(error.message, /^lathe\.yaml:2:3: stage 's': 'wdir' path 'up' leads outside/);
  assert.equal(existsSync(join(base, "made.txt")), false);
  await removeDir(base);
});

void test("an out the command made a symlink to outside fails the stage; nothing is stored or logged from there", async () => {
  const { base, root } = await besideVictim();
  writeFiles(base, { "outside.csv": "step,loss\n0,1\n1,2\n" });
  // The sleep lets the live metrics reader poll the table while the stage runs.
  const yaml = `stages:
  s:
    cmd: ln -s ../outside.csv h.csv && sleep 1
    plots: [h.csv]
`;
  const res = await repro(root, yaml);
  assert.equal(res.code, 2, res.stderr);
  const stage = (JSON.parse(res.stdout) as ReproResult).stages[0]!;
  assert.equal(stage.status, "failed");
  assert.match(
    stage.reason,
    /'plots' path 'h\.csv' leads outside the workspace through the symlink h\.csv -> /,
  );

  const show = await runCli(["--json", "runs", "show", stage.runId!], { cwd: root });
  const run = JSON.parse(show.stdout) as RunDetail;
  assert.equal(run.status, "FAILED");
  assert.deepEqual(run.metrics, {});
  assert.deepEqual(run.outputs, []);
  await removeDir(base);
});

void test("a symlink into .lathe/ makes an out Lathe's own ground; add refuses it too", async () => {
  const { base, root } = await besideVictim();
  symlinkSync(".lathe", join(root, "st"));

  const error = refusal(
    await repro(root, "stages:\n  s:\n    cmd: echo hi\n    outs: [st/cache]\n"),
  );
  assert.equal(error.code, "LATHE_FORBIDDEN");
  assert.match(
    error.message,
    /'outs' path 'st\/cache' is really \.lathe\/cache \(through the symlink st\), which is inside \.lathe\/, which holds Lathe's own state/,
  );
  assert.ok(existsSync(join(root, ".lathe/lathe.db")));

  const add = await runCli(["add", "st/lathe.db"], { cwd: root });
  assert.equal(add.code, 2, add.stdout);
  assert.match(
    add.stderr,
    /Cannot add st\/lathe\.db: through the symlink st it is inside \.lathe\//,
  );
  await removeDir(base);
});
