import assert from "node:assert/strict";
import { Agent } from "node:http";
import { test } from "node:test";
import type { Deployment } from "../../schemas/api";
import { linearSoftmaxModel } from "../fixtures/onnx";
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

async function waitForVersion(daemon: TestDaemon, version: number): Promise<Deployment> {
  for (let i = 0; i < 200; i++) {
    const d = await daemon.client.call<Deployment>("GET", "/api/v1/deployments/weather");
    if (d.state === "ready" && d.version === version) {
      return d;
    }
    await sleep(50);
  }
  throw new Error(`the deployment never reached version ${version}`);
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
