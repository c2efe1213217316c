/**
 * `lathe repro` in a terminal or CI with no daemon (#3): the CLI serves the daemon's API itself
 * for the repro's duration, so a stage that logs through the stdlib Python client and MLflow's
 * REST API (plain HTTP to MLFLOW_TRACKING_URI) logs into its run as it would beside a daemon. The
 * server checks Host, Origin and its token, writes no daemon.json, claims nothing, and is gone
 * when the repro ends (also on Ctrl-C). Beside a running daemon, stages log to that daemon.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ReproResult, RunDetail } from "../../schemas/api";
import { cliPath, daemonIn, removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

const VARIABLES = [
  "LATHE_API",
  "LATHE_TOKEN",
  "LATHE_RUN_ID",
  "MLFLOW_TRACKING_URI",
  "MLFLOW_TRACKING_TOKEN",
  "MLFLOW_RUN_ID",
];

// Writes what the stage was given to seen.json first, then logs as training code does. With a
// variable missing, the client drops what it is given (warning once) and the MLflow calls are
// skipped, as a script that guards them would.
const trainScript = `import json, os, sys, time, urllib.error, urllib.request
import lathe_client as lathe

names = ${JSON.stringify(VARIABLES)}
seen = {"env": {n: os.environ.get(n) for n in names}}
seen["daemon_json"] = os.path.exists(".lathe/daemon.json")
seen["daemon_lock"] = os.path.exists(".lathe/daemon.lock")

def mlflow(endpoint, body, token=True, headers=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]
    h.update(headers or {})
    url = os.environ["MLFLOW_TRACKING_URI"].rstrip("/") + "/api/2.0/mlflow/" + endpoint
    data = json.dumps(dict(body, run_id=os.environ["MLFLOW_RUN_ID"])).encode("utf-8")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, h, method="POST"), timeout=30) as res:
            return res.status
    except urllib.error.HTTPError as err:
        return err.code

have_mlflow = all(os.environ.get(n) for n in names[3:])
if have_mlflow:
    tag = {"key": "refused", "value": "x"}
    seen["checks"] = [
        mlflow("runs/set-tag", tag, token=False),
        mlflow("runs/set-tag", tag, headers={"Host": "evil.example"}),
        mlflow("runs/set-tag", tag, headers={"Origin": "http://evil.example"}),
    ]
    deployments = urllib.request.Request(
        os.environ["LATHE_API"] + "/api/v1/deployments",
        headers={"Authorization": "Bearer " + os.environ["LATHE_TOKEN"]},
    )
    try:
        seen["deployments"] = urllib.request.urlopen(deployments, timeout=30).status
    except urllib.error.HTTPError as err:
        seen["deployments"] = err.code
with open("seen.json", "w") as f:
    json.dump(seen, f)

lathe.log_params({"lr": 0.01})
lathe.set_tag("team", "ci")
for step in range(5):
    lathe.log_metrics({"loss": 1 / (step + 1)}, step=step)
with open("model.bin", "wb") as f:
    f.write(bytes([0, 1, 2, 255]))
lathe.log_artifact("model.bin")
lathe.flush()
if have_mlflow:
    now = int(time.time() * 1000)
    batch = {
        "metrics": [{"key": "acc", "value": 0.9, "timestamp": now, "step": 2}],
        "params": [{"key": "optimizer", "value": "sgd"}],
        "tags": [{"key": "source", "value": "mlflow"}],
    }
    assert mlflow("runs/log-batch", batch) == 200
    assert mlflow("runs/set-tag", {"key": "framework", "value": "none"}) == 200
if os.environ.get("WAIT_FOR_SIGNAL"):
    while True:
        time.sleep(0.05)
`;

const pipeline = `stages:
  train:
    cmd: /usr/bin/python3 train.py
    deps: [train.py]
    outs: [model.bin]
`;

/** Variables a test runner inside a stage would pass on: none may leak into these stages. */
const cleanEnv = Object.fromEntries(VARIABLES.map((n) => [n, ""]));

interface Seen {
  env: Record<string, string | null>;
  daemon_json: boolean;
  daemon_lock: boolean;
  checks?: number[];
  deployments?: number;
}

let root = "";

before(async () => {
  root = await tempDir("lathe-no-daemon-");
  writeFiles(root, { "lathe.yaml": pipeline, "train.py": trainScript });
});

after(async () => {
  await removeDir(root);
});

const seen = () => JSON.parse(readFileSync(join(root, "seen.json"), "utf8")) as Seen;

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const portOf = (url: string | null | undefined) => Number(new URL(url ?? "").port);

test("with no daemon, a stage's client and MLflow calls log into its run through the CLI's own server", async () => {
  const cli = await runCli(["--json", "repro"], { cwd: root, env: cleanEnv });
  assert.equal(cli.code, 0, cli.stderr);
  const result = JSON.parse(cli.stdout) as ReproResult;
  const runId = result.stages[0]!.runId!;

  const { env, daemon_json, daemon_lock, checks, deployments } = seen();
  assert.deepEqual(
    VARIABLES.filter((n) => !env[n]),
    [],
    "every variable is set",
  );
  assert.match(env.LATHE_API!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(env.MLFLOW_TRACKING_URI, env.LATHE_API);
  assert.equal(env.MLFLOW_TRACKING_TOKEN, env.LATHE_TOKEN);
  assert.equal(env.LATHE_RUN_ID, runId);
  assert.equal(env.MLFLOW_RUN_ID, runId);
  assert.deepEqual(checks, [401, 403, 403], "no token, a foreign Host, a foreign Origin");
  assert.equal(deployments, 503, "deployments must outlive the command: the daemon's alone");
  assert.equal(daemon_json, false, "the CLI's server is not the workspace's daemon");
  assert.equal(daemon_lock, false, "nor does it claim the workspace");
  assert.equal(await listening(portOf(env.LATHE_API)), false, "closed when the repro ended");

  // A daemon can start now (nothing claims the workspace) and reads what the stage logged.
  const daemon = await daemonIn(root);
  try {
    const res = await fetch(`${daemon.url}/api/v1/runs/${runId}`, {
      headers: { Authorization: `Bearer ${daemon.info.token}` },
    });
    const run = (await res.json()) as RunDetail;
    assert.equal(run.status, "FINISHED");
    assert.deepEqual(run.params, { lr: "0.01", optimizer: "sgd" });
    assert.deepEqual(
      [run.tags.team, run.tags.source, run.tags.framework, run.tags.refused],
      ["ci", "mlflow", "none", undefined],
    );
    assert.deepEqual([run.metrics.loss?.step, run.metrics.loss?.value], [4, 0.2]);
    assert.deepEqual([run.metrics.acc?.step, run.metrics.acc?.value], [2, 0.9]);
    assert.deepEqual(
      run.artifacts.map((a) => [a.path, a.size]),
      [["model.bin", 4]],
    );
  } finally {
    await daemon.close();
  }
});

test("beside a running daemon, stages log to that daemon", async () => {
  const daemon = await daemonIn(root);
  try {
    const cli = await runCli(["--json", "repro", "--force"], { cwd: root, env: cleanEnv });
    assert.equal(cli.code, 0, cli.stderr);
    const { env, daemon_json, deployments } = seen();
    assert.equal(env.LATHE_API, daemon.url);
    assert.equal(deployments, 200);
    assert.equal(env.MLFLOW_TRACKING_URI, daemon.url);
    assert.equal(env.LATHE_TOKEN, daemon.info.token);
    assert.equal(daemon_json, true);
  } finally {
    await daemon.close();
  }
});

test("Ctrl-C during a stage closes the CLI's server and the CLI exits 130", async () => {
  rmSync(join(root, "seen.json"), { force: true });
  const child = spawn(process.execPath, [cliPath, "repro", "--force"], {
    cwd: root,
    env: { ...process.env, ...cleanEnv, WAIT_FOR_SIGNAL: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!existsSync(join(root, "model.bin")) || !existsSync(join(root, "seen.json"))) {
    assert.ok(Date.now() < deadline, `the stage never logged; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const port = portOf(seen().env.LATHE_API);
  assert.equal(await listening(port), true, "served while the stage runs");

  child.kill("SIGINT");
  assert.equal(await exited, 130, stderr);
  assert.equal(await listening(port), false);
});
