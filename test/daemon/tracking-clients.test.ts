/**
 * The clients shipped in the package (#3): clients/python/lathe_client.py (standard library only)
 * and clients/node/lathe-client (CommonJS, an ES module through createRequire as documented, and
 * its ESM entry where installed), run as real processes against a daemon on port 0 with the
 * environment a stage gets, checked through the daemon's HTTP API.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { MetricHistory, RunDetail } from "../../schemas/api";
import { withClientPaths } from "../../daemon/src/tracking/clients";
import { repoRoot } from "../helpers";
import { trackingDaemon, type Reply, type TrackingDaemon } from "./tracking-helpers";

const exec = promisify(execFile);
const python = "/usr/bin/python3";

let t: TrackingDaemon;

before(async () => {
  t = await trackingDaemon("lathe-clients-");
  mkdirSync(join(t.root, "out", "sub"), { recursive: true });
  writeFileSync(join(t.root, "out", "model.bin"), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(t.root, "out", "sub", "notes.txt"), "héllo\n");
});

after(async () => {
  await t.close();
});

async function newRun(): Promise<string> {
  const reply = await t.post("/api/2.0/mlflow/runs/create", { experiment_id: "0" });
  assert.equal(reply.status, 200, reply.text);
  return (reply.json as { run: { info: { run_id: string } } }).run.info.run_id;
}

/** Runs a program with the environment a stage of this daemon gets for `runId`. */
async function runAs(runId: string | null, file: string, args: string[], source: string) {
  writeFileSync(join(t.root, file), source);
  const env = withClientPaths({ ...process.env, LATHE_API: "", LATHE_RUN_ID: "", LATHE_TOKEN: "" });
  if (runId) {
    Object.assign(env, { LATHE_API: t.url, LATHE_TOKEN: t.token, LATHE_RUN_ID: runId });
  }
  return exec(args[0]!, [...args.slice(1), file], { cwd: t.root, env, timeout: 60_000 });
}

function errorOf(reply: Reply): { code: string; message: string } {
  return reply.json as { code: string; message: string };
}

async function detail(runId: string): Promise<RunDetail> {
  return (await t.get(`/api/v1/runs/${runId}`)).json as RunDetail;
}

async function history(runId: string, key: string): Promise<MetricHistory> {
  return (await t.get(`/api/v1/runs/${runId}/metrics/history`, { key, points: "100000" }))
    .json as MetricHistory;
}

/** What both clients log, in each one's spelling; then a param change that must be refused. */
async function checkLogged(runId: string, stdout: string): Promise<void> {
  const run = await detail(runId);
  assert.deepEqual(run.params, { lr: "0.01", layers: "3" });
  assert.equal(run.tags.team, "blue");
  const loss = await history(runId, "loss");
  assert.equal(loss.total, 2500, "every buffered point arrived, in batches of at most 1000");
  assert.deepEqual(
    loss.points.slice(0, 3).map((p) => p.step),
    [0, 1, 2],
  );
  const odd = await history(runId, "odd");
  assert.deepEqual(
    odd.points.map((p) => [p.step, p.text ?? p.value]),
    [
      [-1, "NaN"],
      [0, "Infinity"],
      [1, "-Infinity"],
      [2, 0.5],
    ],
  );
  assert.deepEqual(
    run.artifacts.map((a) => [a.path, a.size]),
    [
      ["model.bin", 4],
      ["out/model.bin", 4],
      ["out/sub/notes.txt", 7],
    ],
  );
  const download = await t.get(`/api/v1/runs/${runId}/artifacts/out/sub/notes.txt`);
  assert.equal(download.text, "héllo\n");
  assert.match(stdout, /refused LATHE_CONFLICT .*already logged with value='0\.01'/);
}

test("the Python client logs params, 2,500 buffered points, NaN/Infinity, tags and artifacts", async () => {
  const runId = await newRun();
  const { stdout } = await runAs(
    runId,
    "train.py",
    [python],
    `import lathe_client as lathe
lathe.log_params({"lr": 0.01, "layers": 3})
lathe.log_param("lr", "0.01")  # the same value again is fine
lathe.set_tag("team", "red")
lathe.set_tag("team", "blue")
for step in range(2500):
    lathe.log_metric("loss", 1 / (step + 1), step=step)
for step, value in [(-1, float("nan")), (0, float("inf")), (1, float("-inf")), (2, 0.5)]:
    lathe.log_metrics({"odd": value}, step=step)
lathe.log_artifact("out/model.bin")
lathe.log_artifact("out")
lathe.flush()
try:
    lathe.log_param("lr", 0.1)
except lathe.LatheError as err:
    print("refused", err.code, err)
`,
  );
  await checkLogged(runId, stdout);
});

test("the Node client does the same from CommonJS, and its ESM entry loads from node_modules", async () => {
  const runId = await newRun();
  const { stdout } = await runAs(
    runId,
    "train.js",
    [process.execPath],
    `const lathe = require("lathe-client");
(async () => {
  await lathe.logParams({ lr: 0.01, layers: 3 });
  await lathe.logParam("lr", "0.01");
  await lathe.setTag("team", "red");
  await lathe.setTag("team", "blue");
  for (let step = 0; step < 2500; step++) lathe.logMetric("loss", 1 / (step + 1), step);
  [[-1, NaN], [0, Infinity], [1, -Infinity], [2, 0.5]].forEach(([s, v]) => lathe.logMetrics({ odd: v }, s));
  await lathe.logArtifact("out/model.bin");
  await lathe.logArtifact("out");
  await lathe.flush();
  await lathe.logParam("lr", 0.1).catch((err) => console.log("refused", err.code, err.message));
})();
`,
  );
  await checkLogged(runId, stdout);

  // Where the package is installed (npm install <clients>/node/lathe-client), `import` takes
  // index.mjs through its exports map. NODE_PATH alone does not serve ESM imports: see below.
  const esm = await newRun();
  mkdirSync(join(t.root, "node_modules"), { recursive: true });
  symlinkSync(
    join(repoRoot, "clients", "node", "lathe-client"),
    join(t.root, "node_modules", "lathe-client"),
  );
  await runAs(
    esm,
    "esm.mjs",
    [process.execPath],
    `import { logMetric, LatheClient } from "lathe-client";
logMetric("esm", 1, 7);
if (typeof LatheClient !== "function") process.exit(3);
// No flush: the client sends what is buffered before the process exits on its own.
`,
  );
  assert.deepEqual(
    (await history(esm, "esm")).points.map((p) => [p.step, p.value]),
    [[7, 1]],
  );
  rmSync(join(t.root, "node_modules"), { recursive: true });
});

test("outside a stage the clients warn once and log nothing; a dead daemon is a clear error", async () => {
  const py = await runAs(
    null,
    "alone.py",
    [python],
    "import lathe_client as l\nl.log_metric('a', 1)\nl.log_param('b', 2)\nprint('done')\n",
  );
  assert.equal(py.stdout, "done\n");
  assert.equal(py.stderr.match(/LATHE_API and LATHE_RUN_ID not set/g)?.length, 1, py.stderr);

  const js = await runAs(
    null,
    "alone.js",
    [process.execPath],
    `const l = require("lathe-client");
l.logMetric("a", 1); l.logParam("b", 2).then(() => console.log("done"));`,
  );
  assert.equal(js.stdout, "done\n");
  assert.equal(js.stderr.match(/LATHE_API and LATHE_RUN_ID not set/g)?.length, 1, js.stderr);

  const dead = await runAs(
    null,
    "dead.py",
    [python],
    `import lathe_client as l
c = l.Client(api="http://127.0.0.1:9", token="x", run_id="r")
try:
    c.log_param("a", 1)
except l.LatheError as err:
    print(err.code, err)
`,
  );
  assert.match(
    dead.stdout,
    /^LATHE_UNAVAILABLE Cannot reach Lathe at http:\/\/127\.0\.0\.1:9 .*service running\?/,
  );
});

test("an unknown run and a wrong token come back as the daemon's codes", async () => {
  const { stdout } = await runAs(
    null,
    "bad.js",
    [process.execPath],
    `const { LatheClient } = require("lathe-client");
(async () => {
  const unknown = new LatheClient({ api: ${JSON.stringify(t.url)}, token: ${JSON.stringify(t.token)}, runId: "f".repeat(32) });
  await unknown.setTag("a", "b").catch((e) => console.log(e.code, e.status));
  const wrong = new LatheClient({ api: ${JSON.stringify(t.url)}, token: "nope", runId: "f".repeat(32) });
  wrong.logMetric("a", 1);
  await wrong.flush().catch((e) => console.log(e.code, e.status));
})();
`,
  );
  assert.equal(stdout, "LATHE_NOT_FOUND 404\nLATHE_UNAUTHORIZED 401\n");
});

test("a stage of a repro in the daemon imports both clients with no setup and logs into its run", async () => {
  writeFileSync(
    join(t.root, "lathe.yaml"),
    `stages:
  both:
    cmd: ${python} stage.py && node stage.js && node stage.mjs
    deps: [stage.py, stage.js, stage.mjs]
`,
  );
  writeFileSync(
    join(t.root, "stage.py"),
    'import lathe_client\nlathe_client.log_metric("py", 1.5, step=3)\n',
  );
  writeFileSync(
    join(t.root, "stage.js"),
    'require("lathe-client").logParam("from", "node").catch((e) => { console.error(e.message); process.exit(1); });\n',
  );
  // An ES module, as docs/tracking.md says: NODE_PATH serves require(), not import.
  writeFileSync(
    join(t.root, "stage.mjs"),
    `import { createRequire } from "node:module";
const lathe = createRequire(import.meta.url)("lathe-client");
await lathe.logParam("esm", "yes");
lathe.logMetric("mjs", 2, 5);
`,
  );
  const repro = await t.post("/api/v1/pipeline/repro", {});
  assert.equal(repro.status, 200, repro.text);
  const stage = (repro.json as { stages: { status: string; runId: string }[] }).stages[0]!;
  assert.equal(stage.status, "ran", repro.text);
  const run = await detail(stage.runId);
  assert.deepEqual(run.params, { from: "node", esm: "yes" });
  assert.deepEqual(run.metrics.py && [run.metrics.py.step, run.metrics.py.value], [3, 1.5]);
  assert.deepEqual(run.metrics.mjs && [run.metrics.mjs.step, run.metrics.mjs.value], [5, 2]);
});

test("native artifact routes: unknown run or file 404, a path leaving the run 400", async () => {
  const runId = await newRun();
  const unknown = await t.get(`/api/v1/runs/${"e".repeat(32)}/artifacts`);
  assert.equal(unknown.status, 404);
  assert.equal(errorOf(unknown).code, "LATHE_NOT_FOUND");
  const leaving = await t.call(
    "PUT",
    `/api/v1/runs/${runId}/artifacts/a/..%2F..%2Fx`,
    Buffer.from("x"),
  );
  assert.equal(leaving.status, 400, leaving.text);
  assert.equal(errorOf(leaving).code, "LATHE_BAD_INPUT");
  assert.match(errorOf(leaving).message, /must stay inside the run's artifacts/);
  const missing = await t.get(`/api/v1/runs/${runId}/artifacts/none.txt`);
  assert.equal(missing.status, 404);
  assert.deepEqual((await t.get(`/api/v1/runs/${runId}/artifacts`)).json, []);
});
