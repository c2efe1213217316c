// A failed stage's message keeps the line that states the error even when a long stack follows
// it, and points at the whole log. Runs the built CLI on a real failing stage.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { lastLines } from "../../daemon/src/pipeline/exec";
import { removeDir, runCli, tempDir } from "../helpers";

void test("a missing module's error line survives the require stack that follows it", async () => {
  const root = await tempDir();
  await writeFile(
    join(root, "lathe.yaml"),
    `stages:\n  prepare:\n    cmd: node -e "require('no-such-module-for-lathe')"\n`,
  );

  const result = await runCli(["repro"], { cwd: root });

  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /stage 'prepare' failed \(exit 1\); the end of its log:/);
  assert.match(result.stderr, /Error: Cannot find module 'no-such-module-for-lathe'/);
  assert.match(result.stderr, /The whole log: lathe runs show [0-9a-f]{32}/);
  await removeDir(root);
});

void test("lastLines leads with the last error line when it lies before the tail", () => {
  const text = ["a", "TypeError: boom", ...Array.from({ length: 30 }, (_, i) => `  at f${i}`)].join(
    "\n",
  );

  const excerpt = lastLines(text, 5).split("\n");

  assert.deepEqual(excerpt, ["TypeError: boom", "…", "  at f27", "  at f28", "  at f29"]);
  assert.equal(lastLines("one\n\ntwo\nthree", 2), "two\nthree");
  assert.equal(lastLines("x\nValueError: bad\nlast", 5), "x\nValueError: bad\nlast");
});
