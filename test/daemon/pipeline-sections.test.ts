// Stage `env`, top-level metrics and plots, the Lathe-only sections reserved for later issues,
// and the executable bit of an out restored from the run cache (git's 100755).
import assert from "node:assert/strict";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import { LatheError } from "../../daemon/src/errors";
import { parsePipeline, STAGE_FIELDS, TOP_FIELDS } from "../../daemon/src/pipeline/parse";
import { DVC_IGNORED_SECTIONS } from "../../daemon/src/pipeline/sections";
import { repro } from "../../daemon/src/services/repro";
import { pipelineDag, pipelineStatus } from "../../daemon/src/services/repro-status";
import { removeDir, repoRoot, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

const pipeline = (greeting: string) => `
stages:
  greet:
    cmd: node greet.js
    deps: [greet.js]
    env:
      GREETING: ${greeting}
      TIMES: 2
    outs: [greeting.txt]
  tool:
    cmd: node tool.js
    deps: [tool.js, seed.txt]
    outs: [bin/run.sh, bin/data.txt]
metrics: [greeting.txt]
plots:
  - bin/data.txt
  - Curve:
      x: step
      y:
        bin/data.txt: loss
monitor:
  weather: {drift: psi}
`;

const files = {
  "lathe.yaml": pipeline("hello"),
  "greet.js": `require("fs").writeFileSync("greeting.txt", process.env.GREETING.repeat(Number(process.env.TIMES)));`,
  "tool.js": `const fs = require("fs");
fs.mkdirSync("bin", { recursive: true });
fs.writeFileSync("bin/run.sh", "#!/bin/sh\\necho " + fs.readFileSync("seed.txt", "utf8"), { mode: 0o755 });
fs.writeFileSync("bin/data.txt", "step,loss\\n0,1\\n", { mode: 0o644 });`,
  "seed.txt": "1",
};

let root: string;
let ctx: Context;
const statusOf = (r: { stages: { stage: string; status: string }[] }, stage: string) =>
  r.stages.find((s) => s.stage === stage)!.status;
const modeOf = (path: string) => statSync(join(root, path)).mode & 0o777;

before(async () => {
  root = await tempDir("lathe-sections-");
  writeFiles(root, files);
  ctx = openContext(root, { quiet: true });
});

after(async () => {
  closeContext(ctx);
  await removeDir(root);
});

test("a stage's env reaches its command; changing it makes the stage stale with 'env changed'", async () => {
  const first = await repro(ctx);
  assert.equal(statusOf(first, "greet"), "ran");
  assert.equal(readFileSync(join(root, "greeting.txt"), "utf8"), "hellohello");
  assert.match(readFileSync(join(root, "lathe.lock"), "utf8"), /env:\n\s+GREETING: hello\n/);

  writeFileSync(join(root, "lathe.yaml"), pipeline("bye"));
  const status = await pipelineStatus(ctx);
  const greet = status.stages.find((s) => s.stage === "greet")!;
  assert.equal(greet.state, "stale");
  assert.deepEqual(greet.reasons, [{ kind: "cmd", subject: "env", message: "env changed" }]);
  assert.equal(statusOf(await repro(ctx), "greet"), "ran");
  assert.equal(readFileSync(join(root, "greeting.txt"), "utf8"), "byebye");
});

test("a run-cache restore keeps an out's executable bit and leaves the others 0644", async () => {
  assert.equal(modeOf("bin/run.sh"), 0o755);
  assert.match(
    readFileSync(join(root, "lathe.lock"), "utf8"),
    /path: bin\/run.sh\n.*\n.*\n.*\n\s+executable: true/,
  );
  writeFileSync(join(root, "seed.txt"), "2");
  assert.equal(statusOf(await repro(ctx), "tool"), "ran");
  writeFileSync(join(root, "seed.txt"), "1");
  chmodSync(join(root, "bin/run.sh"), 0o644); // What the run cache must not copy.

  const back = await repro(ctx);
  assert.equal(statusOf(back, "tool"), "restored");
  assert.equal(modeOf("bin/run.sh"), 0o755);
  assert.equal(modeOf("bin/data.txt"), 0o644);
  assert.match(readFileSync(join(root, "bin/run.sh"), "utf8"), /echo 1$/);
});

test("top-level metrics and plots are read with their files; 'monitor' is named as not yet implemented", () => {
  const dag = pipelineDag(root);
  assert.deepEqual(dag.metrics, ["greeting.txt"]);
  assert.deepEqual(dag.plots, [
    { id: "bin/data.txt", files: ["bin/data.txt"] },
    { id: "Curve", files: ["bin/data.txt"] },
  ]);
  const parsed = parsePipeline("lathe.yaml", pipeline("x"));
  assert.deepEqual(parsed.warnings, [
    "lathe.yaml:21:1: 'monitor' (watching a deployment for drift) is not implemented yet and is ignored",
  ]);
});

const badCases: [string, string, RegExp][] = [
  [
    "env not a mapping",
    "stages:\n  a:\n    cmd: x\n    env: [A]\n",
    /^lathe\.yaml:4:10: stage 'a': 'env' must be a mapping of variable names to values$/,
  ],
  [
    "env name with a dash",
    "stages:\n  a:\n    cmd: x\n    env:\n      MY-VAR: 1\n",
    /^lathe\.yaml:5:7: stage 'a': env name 'MY-VAR' may hold only letters, digits and '_'$/,
  ],
  [
    "env value a list",
    "stages:\n  a:\n    cmd: x\n    env:\n      A: [1]\n",
    /^lathe\.yaml:5:10: stage 'a': env A must be a string, number or boolean$/,
  ],
  [
    "top-level metrics not a list",
    "stages:\n  a:\n    cmd: x\nmetrics: m.json\n",
    /^lathe\.yaml:4:10: top-level 'metrics' must be a list of paths$/,
  ],
  [
    "top-level plot outside the workspace",
    "stages:\n  a:\n    cmd: x\nplots:\n  - ../p.csv\n",
    /^lathe\.yaml:5:5: 'plots' path '\.\.\/p\.csv' is outside the workspace$/,
  ],
  [
    "a plot definition that is a list",
    "stages:\n  a:\n    cmd: x\nplots:\n  - ROC: [a]\n",
    /^lathe\.yaml:5:10: plot 'ROC': its definition must be a mapping such as \{x: …, y: …\}$/,
  ],
];

for (const [name, text, message] of badCases) {
  test(`bad input: ${name}`, () => {
    assert.throws(
      () => parsePipeline("lathe.yaml", text),
      (err: unknown) =>
        err instanceof LatheError && err.code === "LATHE_BAD_FILE" && message.test(err.message),
    );
  });
}

test("the JSON Schema lists exactly the fields the parser reads", () => {
  const schema = JSON.parse(
    readFileSync(join(repoRoot, "schemas", "lathe.schema.json"), "utf8"),
  ) as {
    properties: Record<string, unknown>;
    definitions: { stage: { properties: Record<string, unknown> } };
  };
  assert.deepEqual(
    Object.keys(schema.properties).sort(),
    [...TOP_FIELDS, ...DVC_IGNORED_SECTIONS].sort(),
  );
  assert.deepEqual(
    Object.keys(schema.definitions.stage.properties).sort(),
    [...STAGE_FIELDS, "matrix"].sort(),
  );
});
