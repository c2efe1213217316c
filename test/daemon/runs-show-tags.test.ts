import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReproResult, RunDetail } from "../../schemas/api";
import { closeContext, openContext } from "../../daemon/src/context";
import { setRunTags } from "../../daemon/src/store/runs";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// These spawn the built CLI: run `node scripts/build.mjs --quiet` first.

void test("runs show prints the run's tags, leaving out mlflow.* ones that --json keeps", async () => {
  const root = await tempDir("lathe-runs-tags-");
  writeFiles(root, { "lathe.yaml": 'stages:\n  make:\n    cmd: node -e "1"\n' });
  const repro = await runCli(["--json", "repro"], { cwd: root });
  assert.equal(repro.code, 0, repro.stderr);
  const runId = (JSON.parse(repro.stdout) as ReproResult).stages[0]!.runId!;
  const ctx = openContext(root, { quiet: true });
  try {
    setRunTags(ctx.db, runId, {
      team: "weather",
      "lathe.note": "first line\nsecond line",
      "mlflow.user": "alice",
      "mlflow.source.name": "train.py",
    });
  } finally {
    closeContext(ctx);
  }

  const show = await runCli(["runs", "show", runId.slice(0, 8)], { cwd: root });
  assert.equal(show.code, 0, show.stderr);
  assert.match(
    show.stdout,
    /\ntags:\n {2}lathe\.note = first line\n {4}second line\n {2}team = weather\n/,
  );
  assert.doesNotMatch(show.stdout, /mlflow\./);

  const json = await runCli(["--json", "runs", "show", runId], { cwd: root });
  const detail = JSON.parse(json.stdout) as RunDetail;
  assert.equal(detail.tags["mlflow.user"], "alice");
  assert.equal(detail.tags.team, "weather");
  await removeDir(root);
});
