import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import type { LockFile } from "../../daemon/src/pipeline/lock";
import { repro } from "../../daemon/src/services/repro";
import { getRun } from "../../daemon/src/store/runs";
import { removeDir, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// `node work.js <name> <ms> [deps...]` writes <name>.pid at once, then after <ms> writes
// <name>.json with its start and end times (ms since the epoch).
const work = `const fs = require("fs");
const [name, ms, fail] = process.argv.slice(2);
const start = Date.now();
fs.writeFileSync(name + ".pid", String(process.pid));
setTimeout(() => {
  if (fail === "fail") { console.error(name + " failed on purpose"); process.exit(4); }
  fs.writeFileSync(name + ".json", JSON.stringify({ start, end: Date.now() }));
}, Number(ms));`;

const pipeline = (ms: number, failA = false) => `
stages:
  a:
    cmd: node work.js a ${ms}${failA ? " fail" : ""}
    outs: [a.json]
  b:
    cmd: node work.js b ${ms}
    outs: [b.json]
  after_a:
    cmd: node work.js after_a 0
    deps: [a.json]
    outs: [after_a.json]
  after_b:
    cmd: node work.js after_b 0
    deps: [b.json]
    outs: [after_b.json]
`;

let root: string;
let ctx: Context;
const times = (name: string) =>
  JSON.parse(readFileSync(join(root, `${name}.json`), "utf8")) as { start: number; end: number };

before(async () => {
  root = await tempDir("lathe-parallel-");
  writeFiles(root, { "work.js": work, "lathe.yaml": pipeline(800) });
  ctx = openContext(root, { quiet: true });
});

after(async () => {
  closeContext(ctx);
  await removeDir(root);
});

test("with --jobs 2 independent stages overlap, and a dependant starts after its upstream ends", async () => {
  const result = await repro(ctx, { jobs: 2 });
  assert.equal(result.ok, true);
  const [a, b, afterA, afterB] = ["a", "b", "after_a", "after_b"].map(times);
  assert.ok(
    a!.start < b!.end && b!.start < a!.end,
    `a ${JSON.stringify(a)} b ${JSON.stringify(b)}`,
  );
  assert.ok(afterA!.start >= a!.end && afterB!.start >= b!.end);
  assert.deepEqual(
    result.stages.map((s) => s.stage),
    ["a", "b", "after_a", "after_b"],
  );
});

test("with one job the same stages do not overlap", async () => {
  const result = await repro(ctx, { force: true });
  assert.equal(result.ok, true);
  const [a, b] = ["a", "b"].map(times);
  assert.ok(b!.start >= a!.end, `a ${JSON.stringify(a)} b ${JSON.stringify(b)}`);
});

test("a failed stage stops its dependants only and keeps the rest of the lock", async () => {
  writeFileSync(join(root, "lathe.yaml"), pipeline(100, true));
  const result = await repro(ctx, { jobs: 2 });
  assert.deepEqual(
    result.stages.map((s) => [s.stage, s.status]),
    [
      ["a", "failed"],
      ["b", "ran"],
      ["after_a", "not-run"],
      ["after_b", "ran"],
    ],
  );
  const lock = parse(readFileSync(join(root, "lathe.lock"), "utf8")) as LockFile;
  assert.equal(lock.stages.a!.cmd, "node work.js a 800"); // the last good entry stays
  assert.equal(lock.stages.b!.cmd, "node work.js b 100");
});

test("cancelling a parallel repro kills every running stage's process group", async () => {
  writeFileSync(join(root, "lathe.yaml"), pipeline(60_000));
  for (const name of ["a", "b"]) {
    rmSync(join(root, `${name}.pid`), { force: true });
  }
  const abort = new AbortController();
  const started = Date.now();
  const done = repro(ctx, { jobs: 2, signal: abort.signal });
  while (!["a", "b"].every((n) => existsSync(join(root, `${n}.pid`)))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  abort.abort();
  const result = await done;

  assert.ok(Date.now() - started < 20_000);
  assert.deepEqual(
    result.stages.map((s) => [s.stage, s.status]),
    [
      ["a", "failed"],
      ["b", "failed"],
      ["after_a", "not-run"],
      ["after_b", "not-run"],
    ],
  );
  for (const s of result.stages.slice(0, 2)) {
    assert.equal(getRun(ctx.db, s.runId!).status, "KILLED");
  }
  for (const name of ["a", "b"]) {
    const pid = Number(readFileSync(join(root, `${name}.pid`), "utf8"));
    assert.ok(await dies(pid), `${name}'s node process (pid ${pid}) is still running`);
  }
});

/** True once the process is gone or a zombie (killed, waiting for its new parent to reap it). */
async function dies(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    if (stat === "" || /\) [ZX] /.test(stat)) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
