// .lathe/ keeps itself out of git: a workspace used without `lathe init` shows no .lathe/ in
// `git status`. Runs the built CLI and the real git.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { removeDir, runCli, tempDir } from "../helpers";

void test("lathe repro without lathe init leaves git status clean of .lathe/", async () => {
  const root = await tempDir();
  execFileSync("git", ["init", "-q"], { cwd: root });
  await writeFile(
    join(root, "lathe.yaml"),
    `stages:\n  hello:\n    cmd: node -e "require('fs').writeFileSync('out.txt', 'hi')"\n    outs: [out.txt]\n`,
  );

  const result = await runCli(["repro"], { cwd: root });

  assert.equal(result.code, 0, result.stderr);
  const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.doesNotMatch(status, /\.lathe\//, status);
  assert.match(status, /lathe\.yaml/);
  await removeDir(root);
});
