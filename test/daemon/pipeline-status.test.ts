import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { PipelineDag, PipelineStatus } from "../../schemas/api";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import { repro } from "../../daemon/src/services/repro";
import { pipelineStatus } from "../../daemon/src/services/repro-status";
import { daemonIn, removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// `a` copies in.txt to a.txt with a param; `b` reads a.txt; `c` is independent.
const pipeline = (cmdA = "node a.js") => `
stages:
  a:
    cmd: ${cmdA}
    deps: [a.js, in.txt]
    params: [a.n]
    outs: [a.txt]
  b:
    cmd: node -e "require('fs').writeFileSync('b.txt', require('fs').readFileSync('a.txt'))"
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: node -e "require('fs').writeFileSync('c.txt', 'c')"
    outs: [c.txt]
`;

const files = {
  "lathe.yaml": pipeline(),
  "params.yaml": "a:\n  n: 1\n",
  "in.txt": "in",
  "a.js": `require("fs").writeFileSync("a.txt", require("fs").readFileSync("in.txt"));`,
};

let root: string;
let ctx: Context;

before(async () => {
  root = await tempDir("lathe-status-");
  writeFiles(root, files);
  ctx = openContext(root, { quiet: true });
});

after(async () => {
  closeContext(ctx);
  await removeDir(root);
});

/** `stage: reason; reason` for every stage that is not up to date. */
async function reasons(): Promise<Record<string, string>> {
  const status = await pipelineStatus(ctx);
  return Object.fromEntries(
    status.stages
      .filter((s) => s.state !== "up-to-date")
      .map((s) => [s.stage, `${s.state}: ${s.reasons.map((r) => r.message).join("; ")}`]),
  );
}

test("before any repro every stage never ran, and downstream says its upstream is stale", async () => {
  assert.deepEqual(await reasons(), {
    a: "stale: never ran (no lock entry)",
    b: "stale: never ran (no lock entry); upstream stage 'a' is stale",
    c: "stale: never ran (no lock entry)",
  });
});

test("after a repro everything is up to date", async () => {
  assert.equal((await repro(ctx)).ok, true);
  const status = await pipelineStatus(ctx);
  assert.equal(status.stale, false);
  assert.deepEqual(await reasons(), {});
});

test("each kind of change is named: dep, param, cmd, missing out, changed out", async () => {
  writeFileSync(join(root, "in.txt"), "changed");
  writeFileSync(join(root, "params.yaml"), "a:\n  n: 2\n");
  writeFileSync(join(root, "lathe.yaml"), pipeline("node a.js v2"));
  rmSync(join(root, "b.txt"));
  writeFileSync(join(root, "c.txt"), "edited by hand");
  assert.deepEqual(await reasons(), {
    a: "stale: cmd changed; dep in.txt changed; param a.n changed",
    b: "stale: out b.txt is missing; upstream stage 'a' is stale",
    c: "stale: out c.txt changed",
  });
  const a = (await pipelineStatus(ctx)).stages[0]!;
  assert.deepEqual(
    a.reasons.map((r) => [r.kind, r.subject]),
    [
      ["cmd", undefined],
      ["dep", "in.txt"],
      ["param", "params.yaml:a.n"],
    ],
  );
});

test("a dep that is gone is missing, not changed", async () => {
  const text = readFileSync(join(root, "in.txt"));
  rmSync(join(root, "in.txt"));
  try {
    assert.match((await reasons()).a!, /dep in\.txt is missing/);
  } finally {
    writeFileSync(join(root, "in.txt"), text);
  }
});

test("always_changed and frozen stages say so", async () => {
  writeFileSync(
    join(root, "lathe.yaml"),
    `stages:\n  a:\n    cmd: node a.js\n    frozen: true\n    outs: [a.txt]\n  c:\n    cmd: node -e "1"\n    always_changed: true\n`,
  );
  const status = await pipelineStatus(ctx);
  assert.deepEqual(
    status.stages.map((s) => [s.stage, s.state, s.reasons[0]!.kind]),
    [
      ["a", "frozen", "frozen"],
      ["c", "stale", "always-changed"],
    ],
  );
  writeFileSync(join(root, "lathe.yaml"), pipeline());
});

test("lathe status --pipeline --check exits 1 when stale and 0 once reproduced; --json has reasons", async () => {
  const stale = await runCli(["status", "--pipeline", "--check"], { cwd: root });
  assert.equal(stale.code, 1, stale.stderr);
  assert.match(stale.stdout, /^a +stale: dep in\.txt changed; param a\.n changed$/m);

  assert.equal((await runCli(["repro"], { cwd: root })).code, 0);
  const fresh = await runCli(["--json", "status", "--pipeline", "--check"], { cwd: root });
  assert.equal(fresh.code, 0, fresh.stderr);
  const status = JSON.parse(fresh.stdout) as PipelineStatus;
  assert.equal(status.stale, false);
  assert.deepEqual(
    status.stages.map((s) => s.state),
    ["up-to-date", "up-to-date", "up-to-date"],
  );
});

test("GET /api/v1/pipeline/status and /dag answer the editor", async () => {
  const daemon = await daemonIn(root);
  try {
    writeFileSync(join(root, "in.txt"), "again");
    const status = await daemon.client.call<PipelineStatus>("GET", "/api/v1/pipeline/status");
    assert.deepEqual(
      status.stages.map((s) => [s.state, s.reasons.map((r) => r.message).join("; ")]),
      [
        ["stale", "dep in.txt changed"],
        ["stale", "upstream stage 'a' is stale"],
        ["up-to-date", ""],
      ],
    );
    const dag = await daemon.client.call<PipelineDag>("GET", "/api/v1/pipeline/dag");
    assert.deepEqual(
      dag.stages.map((s) => [s.name, s.upstream, s.line]),
      [
        ["a", [], 3],
        ["b", ["a"], 8],
        ["c", [], 12],
      ],
    );
    // Each stage's declared params, keyed as its runs record them.
    assert.deepEqual(
      dag.stages.map((s) => s.params),
      [["a.n"], [], []],
    );
  } finally {
    await daemon.close();
  }
});
