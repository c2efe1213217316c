import assert from "node:assert/strict";
import { Agent } from "node:http";
import { test } from "node:test";
import type { DaemonEvent, Deployment, DeploymentStats } from "../../schemas/api";
import { expectedLinearSoftmax, linearSoftmaxModel, weatherLabels } from "../fixtures/onnx";
import {
  deploy,
  registerVersions,
  sleep,
  weatherRecords,
  weatherRows,
  withDaemon,
  workerClient,
  type TestDaemon,
} from "./serving-helpers";

// The worker runs from dist/: `node scripts/build.mjs --quiet` first.

/** Versions 1 and 2 of `weather`; version 2's bias makes every answer "drizzle". */
async function twoVersions(daemon: TestDaemon): Promise<void> {
  await registerVersions(daemon, "weather", [
    linearSoftmaxModel(),
    linearSoftmaxModel({ bias: [50, 0, 0] }),
  ]);
}

/** `clients` loops of /predict on keep-alive connections until `stop()`; every answer kept. */
function load(worker: ReturnType<typeof workerClient>, clients: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const answers: { client: number; status: number; version: unknown; error?: string }[] = [];
  let isRunning = true;
  const loop = async (_: unknown, client: number) => {
    while (isRunning) {
      try {
        const a = await worker("POST", "/predict", { records: weatherRecords }, {}, agent);
        const error = a.json.error as string;
        answers.push({ client, status: a.status, version: a.json.version, error });
      } catch (err) {
        answers.push({ client, status: 0, version: null, error: (err as Error).message });
      }
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    answers,
    stop: async () => {
      isRunning = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

void test("redeploying under continuous requests switches versions with zero errors (#5)", () =>
  withDaemon(async (daemon) => {
    await twoVersions(daemon);
    const first = await deploy(daemon, { model: "weather@1" });
    const traffic = load(workerClient(daemon, first.port!), 8);
    await sleep(300);

    const swaps: Deployment[] = [];
    for (const model of ["weather@2", "weather@1", "weather"]) {
      swaps.push(await deploy(daemon, { model }));
      await sleep(300);
    }
    await traffic.stop();

    const errors = traffic.answers.filter((a) => a.status !== 200);
    assert.deepEqual(errors, [], `${errors.length} of ${traffic.answers.length} failed`);
    assert.ok(traffic.answers.length > 50, `only ${traffic.answers.length} answers`);
    assert.deepEqual(
      swaps.map((d) => [d.version, d.port, d.pid, d.target]),
      [
        [2, first.port, first.pid, "weather@2"],
        [1, first.port, first.pid, "weather@1"],
        [2, first.port, first.pid, "weather"],
      ],
    );
    // Answers follow the swaps in order: 1s, then 2s, then 1s, then 2s. Each client sends one
    // request at a time, so its answers must follow them; across clients, a request queued on
    // the old version just before a swap may finish after one served by the new.
    const swapsSeen = (client: number) =>
      traffic.answers
        .filter((a) => a.client === client)
        .map((a) => a.version)
        .filter((v, i, all) => i === 0 || v !== all[i - 1]);
    for (let client = 0; client < 8; client++) {
      const seen = swapsSeen(client);
      const order = [1, 2, 1, 2];
      let at = 0;
      for (const v of seen) {
        while (at < order.length && order[at] !== v) {
          at++;
        }
        assert.ok(at < order.length, `client ${client} saw versions ${seen.join(",")}`);
        at++;
      }
    }
    assert.ok(
      Array.from({ length: 8 }, (_, c) => swapsSeen(c).join(",")).includes("1,2,1,2"),
      "some client saw every swap",
    );
    const meta = await workerClient(daemon, first.port!)("GET", "/v2/models/weather");
    assert.deepEqual(meta.json.versions, ["2"], "the old version is unloaded after draining");
  }));

void test("a worker killed with SIGKILL is restarted: failed, restarting, ready, and serving again (#5)", () =>
  withDaemon(async (daemon) => {
    await twoVersions(daemon);
    const before = await deploy(daemon, { model: "weather@2" });
    const states: string[] = [];
    const unsubscribe = daemon.ctx.events.on((event: DaemonEvent) => {
      if (event.type === "deployments/changed" && event.name === "weather") {
        states.push(
          daemon.ctx.db
            .prepare("SELECT state FROM deployments WHERE name = 'weather'")
            .pluck()
            .get() as string,
        );
      }
    });

    process.kill(before.pid!, "SIGKILL");
    let after = before;
    for (let i = 0; i < 200 && !(after.state === "ready" && after.pid !== before.pid); i++) {
      await sleep(25);
      after = await daemon.client.call<Deployment>("GET", "/api/v1/deployments/weather");
    }
    unsubscribe();

    assert.deepEqual(states, ["failed", "restarting", "ready"]);
    assert.equal(after.state, "ready");
    assert.notEqual(after.pid, before.pid);
    assert.deepEqual([after.version, after.port, after.restarts], [2, before.port, 1]);
    const answer = await workerClient(daemon, after.port!)("POST", "/predict", {
      records: weatherRecords,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.version, 2);
  }));

void test("a 90/10 split sends 10% of 1,000 requests to the second version, with per-version metrics (#5)", () =>
  withDaemon(async (daemon) => {
    await twoVersions(daemon);
    const split = await deploy(daemon, {
      model: "weather@1",
      split: { target: "weather@2", percent: 10 },
    });
    assert.deepEqual(split.traffic, [
      { version: 1, percent: 90 },
      { version: 2, percent: 10 },
    ]);
    const worker = workerClient(daemon, split.port!);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const counts = new Map<unknown, number>();
    for (let i = 0; i < 250; i++) {
      const batch = await Promise.all(
        Array.from({ length: 4 }, () =>
          worker("POST", "/predict", { records: weatherRecords.slice(0, 1) }, {}, agent),
        ),
      );
      for (const a of batch) {
        assert.equal(a.status, 200);
        counts.set(a.json.version, (counts.get(a.json.version) ?? 0) + 1);
      }
    }
    agent.destroy();
    const second = counts.get(2) ?? 0;
    assert.equal((counts.get(1) ?? 0) + second, 1000);
    assert.ok(Math.abs(second - 100) <= 20, `version 2 got ${second} of 1000`);

    const stats = await daemon.client.call<DeploymentStats>(
      "GET",
      "/api/v1/deployments/weather/stats",
    );
    assert.deepEqual(
      stats.versions.map((v) => [v.version, v.percent, v.requests]),
      [
        [1, 90, counts.get(1)],
        [2, 10, second],
      ],
    );
    assert.ok(stats.p95Ms !== null && stats.requestsPerSecond > 0);
    const metrics = (await worker("GET", "/metrics")).text;
    assert.match(metrics, new RegExp(`endpoint="predict",status="200",version="2"} ${second}\\b`));
    assert.match(metrics, /lathe_serving_model_version\{model="weather",version="2"\} 10/);
  }));

void test("concurrent requests are merged into fewer session.run calls, each answer its own rows (#5)", () =>
  withDaemon(async (daemon) => {
    await twoVersions(daemon);
    const deployment = await deploy(daemon, { model: "weather@1", maxDelayMs: 50 });
    const worker = workerClient(daemon, deployment.port!);
    const expected = expectedLinearSoftmax(weatherRows);
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        worker("POST", "/predict", { records: [weatherRecords[i % 3]] }, {}, false),
      ),
    );
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      const [prediction] = a.json.predictions as { label: string }[];
      assert.equal(prediction!.label, weatherLabels[expected[i % 3]!.label]);
    });
    const metrics = (await worker("GET", "/metrics")).text;
    const runs = Number(/lathe_serving_batch_rows_count\{version="1"\} (\d+)/.exec(metrics)?.[1]);
    const rows = Number(/lathe_serving_batch_rows_sum\{version="1"\} (\d+)/.exec(metrics)?.[1]);
    assert.equal(rows, 24);
    assert.ok(runs < 12, `24 requests took ${runs} session.run calls`);

    const solo = await deploy(daemon, { model: "weather@1", maxBatchRows: 1 });
    assert.equal(solo.options.maxBatchRows, 1);
  }));

void test("a split naming the same version or another model is refused with 400 (#5)", () =>
  withDaemon(async (daemon) => {
    await twoVersions(daemon);
    await registerVersions(daemon, "other", [linearSoftmaxModel()]);
    for (const target of ["weather@1", "other@1"]) {
      await assert.rejects(
        deploy(daemon, { model: "weather@1", split: { target, percent: 10 } }),
        /split.target '.*' must name another version of 'weather' than 1/,
      );
    }
    await assert.rejects(
      deploy(daemon, { model: "weather@champion" }),
      /Model 'weather' has no alias 'champion'/,
    );
    await assert.rejects(
      deploy(daemon, { model: "weather@9" }),
      /Model 'weather' has no version 9/,
    );
  }));

void test("a crashed deployment undeployed before its restart stays stopped (#5)", () =>
  withDaemon(async (daemon) => {
    await twoVersions(daemon);
    const before = await deploy(daemon, { model: "weather@1" });
    process.kill(before.pid!, "SIGKILL");
    let state = "";
    for (let i = 0; i < 200 && state !== "failed"; i++) {
      await sleep(5);
      state = (await daemon.client.call<Deployment>("GET", "/api/v1/deployments/weather")).state;
    }
    const stopped = await daemon.client.call<Deployment>("DELETE", "/api/v1/deployments/weather");
    assert.equal(stopped.state, "stopped");
    await sleep(1500); // Past the first restart's 250 ms and a worker's start.
    const after = await daemon.client.call<Deployment>("GET", "/api/v1/deployments/weather");
    assert.deepEqual([after.state, after.pid], ["stopped", null]);
  }));
