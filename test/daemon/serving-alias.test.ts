import assert from "node:assert/strict";
import { Agent } from "node:http";
import { test } from "node:test";
import type { DaemonEvent, Deployment, TrafficShare } from "../../schemas/api";
import { linearSoftmaxModel, unloadableModel } from "../fixtures/onnx";
import { runCli } from "../helpers";
import {
  deploy,
  registerVersions,
  sleep,
  weatherRecords,
  withDaemon,
  workerClient,
  type TestDaemon,
} from "./serving-helpers";

// The worker runs from dist/: `node scripts/build.mjs --quiet` first.

function setAlias(daemon: TestDaemon, alias: string, version: number, reason: string) {
  return daemon.client.call("PUT", `/api/v1/models/weather/aliases/${alias}`, { version, reason });
}

function getDeployment(daemon: TestDaemon): Promise<Deployment> {
  return daemon.client.call<Deployment>("GET", "/api/v1/deployments/weather");
}

/** Polls the deployment until `isDone` holds; fails naming what it last saw. */
async function waitFor(
  daemon: TestDaemon,
  what: string,
  isDone: (d: Deployment) => boolean,
): Promise<Deployment> {
  let d = await getDeployment(daemon);
  for (let i = 0; i < 300 && !isDone(d); i++) {
    await sleep(25);
    d = await getDeployment(daemon);
  }
  assert.ok(isDone(d), `the deployment never ${what}: ${JSON.stringify(d)}`);
  return d;
}

function waitForVersion(daemon: TestDaemon, version: number): Promise<Deployment> {
  return waitFor(daemon, `reached version ${version}`, (d) => {
    return d.state === "ready" && d.version === version;
  });
}

/** Which versions answer `count` /predict requests to the deployment's URL. */
async function versionsAnswering(daemon: TestDaemon, port: number, count: number) {
  const worker = workerClient(daemon, port);
  const versions = new Set<unknown>();
  for (let i = 0; i < count; i++) {
    const answer = await worker("POST", "/predict", { records: weatherRecords });
    assert.equal(answer.status, 200, answer.text);
    versions.add(answer.json.version);
  }
  return [...versions];
}

/** The deployment's rows as each `deployments/changed` event saw them, until `stop()`. */
function recordChanges(daemon: TestDaemon) {
  const seen: Pick<Deployment, "state" | "traffic" | "error">[] = [];
  const stop = daemon.ctx.events.on((event: DaemonEvent) => {
    if (event.type === "deployments/changed" && event.name === "weather") {
      const row = daemon.ctx.db
        .prepare("SELECT state, traffic, error FROM deployments WHERE name = 'weather'")
        .get() as { state: Deployment["state"]; traffic: string; error: string | null };
      const traffic = JSON.parse(row.traffic) as TrafficShare[];
      seen.push({ state: row.state, traffic, error: row.error });
    }
  });
  return { seen, stop };
}

void test("a deployment of weather@champion follows the alias as it moves, with zero errors (#5)", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", [
      linearSoftmaxModel(),
      linearSoftmaxModel({ bias: [50, 0, 0] }),
    ]);
    await setAlias(daemon, "champion", 1, "first good model");
    const first = await deploy(daemon, { model: "weather@champion" });
    assert.deepEqual([first.version, first.target], [1, "weather@champion"]);

    const worker = workerClient(daemon, first.port!);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const answers: { status: number; version: unknown }[] = [];
    let running = true;
    const loop = async () => {
      while (running) {
        const a = await worker("POST", "/predict", { records: weatherRecords }, {}, agent);
        answers.push({ status: a.status, version: a.json.version });
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    await sleep(200);

    await setAlias(daemon, "champion", 2, "better on 2015");
    const moved = await waitForVersion(daemon, 2);
    await sleep(200);
    await daemon.client.call("POST", "/api/v1/models/weather/aliases/champion/rollback", {
      reason: "regressed in production",
    });
    const back = await waitForVersion(daemon, 1);
    await sleep(200);
    running = false;
    await Promise.all(loops);
    agent.destroy();

    assert.equal(moved.port, first.port, "the swap keeps the URL");
    assert.equal(back.target, "weather@champion");
    const errors = answers.filter((a) => a.status !== 200);
    assert.deepEqual(errors, [], `${errors.length} of ${answers.length} requests failed`);
    const order = answers.map((a) => a.version).filter((v, i, all) => i === 0 || v !== all[i - 1]);
    assert.deepEqual(order, [1, 2, 1], "answers came from v1, then v2, then v1 again");
  }));

void test("deploying an alias the model does not have is 404 naming its aliases (#5)", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", [linearSoftmaxModel()]);
    await setAlias(daemon, "champion", 1, "");

    await assert.rejects(deploy(daemon, { model: "weather@staging" }), (err: Error) => {
      assert.match(err.message, /Model 'weather' has no alias 'staging' \(its aliases: champion\)/);
      return true;
    });
  }));

void test("promoting the canary of a split to the alias collapses the split to it at 100% (#5)", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", [
      linearSoftmaxModel(),
      linearSoftmaxModel({ bias: [50, 0, 0] }),
    ]);
    await setAlias(daemon, "champion", 1, "first good model");
    const canary = await deploy(daemon, {
      model: "weather@champion",
      split: { target: "weather@2", percent: 10 },
    });
    assert.deepEqual(canary.traffic, [
      { version: 1, percent: 90 },
      { version: 2, percent: 10 },
    ]);
    const changes = recordChanges(daemon);

    // As a person would: the CLI finds the daemon and moves the alias through it.
    const promoted = await runCli(["models", "promote", "weather@2", "champion"], {
      cwd: daemon.ctx.ws.root,
    });
    assert.equal(promoted.code, 0, promoted.stderr);
    const after = await waitFor(daemon, "collapsed to version 2", (d) => d.traffic.length === 1);
    changes.stop();

    assert.deepEqual(after.traffic, [{ version: 2, percent: 100 }]);
    assert.deepEqual(
      [after.state, after.version, after.target, after.error],
      ["ready", 2, "weather@champion", null],
    );
    assert.deepEqual([after.port, after.pid], [canary.port, canary.pid], "switched in place");
    assert.deepEqual(changes.seen.at(-1), {
      state: "ready",
      traffic: [{ version: 2, percent: 100 }],
      error: null,
    });
    assert.deepEqual(await versionsAnswering(daemon, after.port!, 20), [2]);
  }));

for (const when of ["at once", "once the deployment shows failed"]) {
  void test(`an alias moved ${when} after a crash brings the deployment back on the new version (#5)`, () =>
    withDaemon(async (daemon) => {
      await registerVersions(daemon, "weather", [
        linearSoftmaxModel(),
        linearSoftmaxModel({ bias: [50, 0, 0] }),
      ]);
      await setAlias(daemon, "champion", 1, "first good model");
      const before = await deploy(daemon, { model: "weather@champion" });

      process.kill(before.pid!, "SIGKILL");
      if (when !== "at once") {
        await waitFor(daemon, "failed", (d) => d.state === "failed");
      }
      await setAlias(daemon, "champion", 2, "better on 2015");
      const after = await waitFor(daemon, "came back", (d) => {
        return d.state === "ready" && d.pid !== before.pid;
      });

      assert.deepEqual(
        [after.version, after.traffic, after.target, after.restarts, after.error],
        [2, [{ version: 2, percent: 100 }], "weather@champion", 1, null],
      );
      assert.deepEqual(await versionsAnswering(daemon, after.port!, 5), [2]);
    }));
}

void test("an alias moved to a version that cannot load leaves the old one serving, with the reason as the error, live and after a crash (#5)", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", [linearSoftmaxModel(), unloadableModel()]);
    await setAlias(daemon, "champion", 1, "first good model");
    const before = await deploy(daemon, { model: "weather@champion" });

    await setAlias(daemon, "champion", 2, "broken export");
    const live = await waitFor(daemon, "recorded an error", (d) => d.error !== null);
    assert.match(
      live.error!,
      /^weather@champion now names version 2, but the deployment could not switch to it \(The new version did not load; the old one keeps serving: .*NoSuchOperator.*\); version 1 keeps serving\.$/,
    );
    assert.deepEqual([live.state, live.version, live.pid], ["ready", 1, before.pid]);

    process.kill(before.pid!, "SIGKILL");
    const restarted = await waitFor(daemon, "came back", (d) => {
      return d.state === "ready" && d.pid !== before.pid;
    });
    assert.deepEqual([restarted.version, restarted.restarts], [1, 1]);
    assert.match(
      restarted.error!,
      /^weather@champion now names version 2, but the deployment could not switch to it \(.*NoSuchOperator/,
    );
    assert.deepEqual(await versionsAnswering(daemon, restarted.port!, 3), [1]);
  }));

void test("an alias removed from under its deployment is the deployment's error; the version keeps serving (#5)", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", [
      linearSoftmaxModel(),
      linearSoftmaxModel({ bias: [50, 0, 0] }),
    ]);
    await setAlias(daemon, "champion", 1, "first good model");
    const before = await deploy(daemon, { model: "weather@champion" });
    const changes = recordChanges(daemon);

    await daemon.client.call("DELETE", "/api/v1/models/weather/aliases/champion?reason=oops");
    const orphaned = await waitFor(daemon, "recorded an error", (d) => d.error !== null);
    assert.equal(
      orphaned.error,
      "weather@champion no longer names a version (Model 'weather' has no alias 'champion' (it has no aliases yet)); version 1 keeps serving.",
    );
    assert.deepEqual([orphaned.state, orphaned.pid], ["ready", before.pid]);
    assert.equal(changes.seen.at(-1)?.error, orphaned.error, "announced as deployments/changed");
    const listed = await runCli(["deployments"], { cwd: daemon.ctx.ws.root });
    assert.match(
      listed.stdout,
      /weather +ready .*\n {4}weather@champion no longer names a version/,
    );
    assert.deepEqual(await versionsAnswering(daemon, before.port!, 3), [1]);

    await setAlias(daemon, "champion", 2, "found it again");
    const back = await waitForVersion(daemon, 2);
    changes.stop();
    assert.equal(back.error, null, "a follow that works clears the error");
  }));
