/**
 * What examples/weather/.gitignore says about data/weather.csv holds: committed before
 * `lathe add` (as in this repository, and as the demo commits its copy), git goes on tracking
 * it; added first (a project of your own), it stays out of git and its pointer goes in.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { removeDir, repoRoot, runCli, tempDir } from "../helpers";

// These spawn the built CLI: run `node scripts/build.mjs --quiet` first.

const exampleDir = join(repoRoot, "examples", "weather");

async function exampleCopy(): Promise<{ dir: string; git: (...args: string[]) => string }> {
  const dir = await tempDir("lathe-weather-git-");
  cpSync(exampleDir, dir, { recursive: true, filter: (src) => !/\.lathe$|lathe\.lock$/.test(src) });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], {
      cwd: dir,
      encoding: "utf8",
    });
  git("init", "-q");
  return { dir, git };
}

void test("the example's .gitignore tells what lathe add does to data/weather.csv", () => {
  const comment = readFileSync(join(exampleDir, ".gitignore"), "utf8");
  assert.match(comment, /data\/weather\.csv is committed in this repository/);
  assert.match(comment, /git goes on tracking a file it has already/);
  assert.match(comment, /commit\n?#? ?data\/weather\.csv\.lathe and data\/\.gitignore instead/);
});

void test("committed before lathe add (this repository, the demo), weather.csv stays tracked", async () => {
  const { dir, git } = await exampleCopy();
  git("add", "-A");
  git("commit", "-qm", "example");

  const added = await runCli(["add", "data/weather.csv"], { cwd: dir });
  assert.equal(added.code, 0, added.stderr);

  assert.equal(git("check-ignore", "--no-index", "data/weather.csv").trim(), "data/weather.csv");
  assert.equal(git("ls-files", "data/weather.csv").trim(), "data/weather.csv");
  assert.deepEqual(git("status", "--porcelain", "--untracked-files=all").trim().split("\n"), [
    "?? data/.gitignore",
    "?? data/weather.csv.lathe",
  ]);
  await removeDir(dir);
});

void test("added first (a project of your own), weather.csv stays out of git, its pointer goes in", async () => {
  const { dir, git } = await exampleCopy();

  const added = await runCli(["add", "data/weather.csv"], { cwd: dir });
  assert.equal(added.code, 0, added.stderr);
  git("add", "-A");

  const staged = git("diff", "--cached", "--name-only").trim().split("\n");
  assert.ok(!staged.includes("data/weather.csv"), staged.join(", "));
  assert.ok(staged.includes("data/weather.csv.lathe"), staged.join(", "));
  assert.ok(staged.includes("data/.gitignore"), staged.join(", "));
  await removeDir(dir);
});
