import assert from "node:assert/strict";
import { test } from "node:test";
import type { PipelineStatus } from "../../schemas/api";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// These spawn the built CLI: run `node scripts/build.mjs --quiet` first.

const write = `node -e "for (const f of process.argv.slice(1)) require('fs').writeFileSync(f, 'x')" a.txt old.txt`;
const stage = (extra: string, outs: string) =>
  `stages:\n  a:\n    cmd: ${write}\n    deps: [in.txt]\n${extra}    outs: [${outs}]\n`;

void test("a frozen stage's status says frozen once, and an out lathe.yaml dropped as no longer declared", async () => {
  const root = await tempDir("lathe-status-frozen-");
  writeFiles(root, { "lathe.yaml": stage("", "a.txt, old.txt"), "in.txt": "1" });
  const ran = await runCli(["repro"], { cwd: root });
  assert.equal(ran.code, 0, ran.stderr);

  // old.txt is no longer an out, and changes; in.txt changes too.
  writeFiles(root, {
    "lathe.yaml": stage("    frozen: true\n", "a.txt"),
    "in.txt": "2",
    "old.txt": "changed",
  });
  const human = await runCli(["status", "--pipeline"], { cwd: root });
  assert.equal(human.code, 0, human.stderr);
  assert.equal(
    human.stdout.trim(),
    "a  frozen: never run by repro; dep in.txt changed; out old.txt is no longer declared in the pipeline file",
  );

  const json = await runCli(["--json", "status", "--pipeline"], { cwd: root });
  const status = JSON.parse(json.stdout) as PipelineStatus;
  assert.deepEqual(
    status.stages[0]!.reasons.map((r) => [r.kind, r.subject ?? null]),
    [
      ["frozen", null],
      ["dep", "in.txt"],
      ["out-changed", "old.txt"],
    ],
  );
  await removeDir(root);
});

void test("an out taken out of lathe.yaml makes its stage stale, saying so; a repro settles it", async () => {
  const root = await tempDir("lathe-status-undeclared-");
  writeFiles(root, { "lathe.yaml": stage("", "a.txt, old.txt"), "in.txt": "1" });
  assert.equal((await runCli(["repro"], { cwd: root })).code, 0);

  writeFiles(root, { "lathe.yaml": stage("", "a.txt"), "old.txt": "changed" });
  const res = await runCli(["status", "--pipeline", "--check"], { cwd: root });
  assert.equal(res.code, 1, res.stdout);
  assert.equal(
    res.stdout.trim(),
    "a  stale: out old.txt is no longer declared in the pipeline file",
  );
  assert.equal((await runCli(["repro"], { cwd: root })).code, 0);
  const after = await runCli(["status", "--pipeline", "--check"], { cwd: root });
  assert.equal(after.code, 0, after.stdout);
  assert.equal(after.stdout.trim(), "a  up to date");
  await removeDir(root);
});
