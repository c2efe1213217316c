import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReproResult, RunDetail, RunSummary } from "../../schemas/api";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

test("lathe repro, runs list, runs show and dag print text and --json", async () => {
  const root = await tempDir("lathe-runs-cli-");
  writeFiles(root, {
    "lathe.yaml": `stages:
  make:
    cmd: node -e "require('fs').writeFileSync('a.txt', 'a')"
    outs: [a.txt]
  score:
    cmd: printf '{"f1":0.8}' > s.json
    deps: [a.txt]
    params: [k]
    metrics: [s.json]
`,
    "params.yaml": "k: 5\n",
  });

  const first = await runCli(["repro"], { cwd: root });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^ran\s+make run [0-9a-f]{8}: never ran \(no lock entry\)$/m);

  const second = await runCli(["--json", "repro"], { cwd: root });
  const result = JSON.parse(second.stdout) as ReproResult;
  assert.deepEqual(
    result.stages.map((s) => [s.stage, s.status, s.reason]),
    [
      ["make", "skipped", "up to date"],
      ["score", "skipped", "up to date"],
    ],
  );

  const list = await runCli(["runs", "list"], { cwd: root });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ID\s+STAGE\s+STATUS/);
  assert.match(list.stdout, /score\s+FINISHED\s+.*f1=0\.8/);

  const json = JSON.parse(
    (await runCli(["--json", "runs", "list"], { cwd: root })).stdout,
  ) as RunSummary[];
  const score = json.find((r) => r.stage === "score")!;
  assert.equal(score.params.k, "5");

  const show = await runCli(["runs", "show", score.id.slice(0, 8)], { cwd: root });
  assert.match(show.stdout, new RegExp(`run ${score.id} \\(score\\) FINISHED`));
  assert.match(show.stdout, /f1 = 0\.8/);
  const detail = JSON.parse(
    (await runCli(["--json", "runs", "show", score.id], { cwd: root })).stdout,
  ) as RunDetail;
  assert.deepEqual(
    detail.inputs.map((f) => f.path),
    ["a.txt"],
  );

  const missing = await runCli(["runs", "show", "abcdabcd"], { cwd: root });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /No run matches 'abcdabcd'/);

  const dag = await runCli(["dag"], { cwd: root });
  assert.equal(dag.stdout, "make\nscore <- make\n");
  await removeDir(root);
});
