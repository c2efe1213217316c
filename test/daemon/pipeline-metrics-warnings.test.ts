import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReproResult, RunDetail } from "../../schemas/api";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// These spawn the built CLI: run `node scripts/build.mjs --quiet` first.

/** A stage that writes `body` to `file` and declares m.json as its metrics. */
function files(file: string, body: string): Record<string, string> {
  return {
    "write.js": `require("fs").writeFileSync(${JSON.stringify(file)}, ${JSON.stringify(body)});\n`,
    "lathe.yaml":
      "stages:\n  train:\n    cmd: node write.js\n    deps: [write.js]\n    metrics: [m.json]\n",
  };
}

void test("a metrics file that does not parse is a warning in repro's output and JSON", async () => {
  const root = await tempDir("lathe-metrics-warn-");
  writeFiles(root, files("m.json", "{bad"));

  const human = await runCli(["repro"], { cwd: root });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /ran/);
  assert.match(
    human.stderr,
    /lathe: warning: stage 'train': m\.json:1:5: no metrics read, not valid JSON or YAML: Flow map must end with a \}\n/,
  );

  const json = await runCli(["--json", "repro", "-f"], { cwd: root });
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout) as ReproResult;
  assert.deepEqual(result.warnings, [
    "stage 'train': m.json:1:5: no metrics read, not valid JSON or YAML: Flow map must end with a }",
  ]);
  assert.deepEqual(result.stages[0]!.warnings, result.warnings);

  // The run's log keeps the whole message, with the YAML excerpt after the colon.
  const runId = result.stages[0]!.runId!;
  const show = await runCli(["--json", "runs", "show", runId], { cwd: root });
  assert.equal(show.code, 0, show.stderr);
  const { log } = JSON.parse(show.stdout) as RunDetail;
  assert.match(
    log,
    /lathe: no metrics read from m\.json: Flow map must end with a \} at line 1, column 5:\n\n\{bad\n {4}\^/,
  );
  await removeDir(root);
});

void test("a metrics file the stage did not write fails the stage: it is a declared out", async () => {
  const root = await tempDir("lathe-metrics-missing-");
  writeFiles(root, files("other.json", "{}"));

  const res = await runCli(["--json", "repro"], { cwd: root });
  assert.equal(res.code, 2, res.stderr); // LATHE_STAGE_FAILED, as for any failed stage
  const result = JSON.parse(res.stdout) as ReproResult;
  assert.equal(result.stages[0]!.status, "failed");
  assert.equal(result.stages[0]!.reason, "did not write its out m.json");
  await removeDir(root);
});
