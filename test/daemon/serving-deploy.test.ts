import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import type { Deployment, ModelVersion, RegisteredModel } from "../../schemas/api";
import {
  expectedLinearSoftmax,
  linearSoftmaxModel,
  seedRun,
  unloadableModel,
  weatherLabels,
} from "../fixtures/onnx";
import { daemonIn, removeDir, tempDir } from "../helpers";

// The worker runs from dist/: `node scripts/build.mjs --quiet` first.

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Answer> {
  const payload =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        headers: { "Content-Type": "application/json", ...headers },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** A daemon in a fresh workspace, closed (stopping its workers) even when the test fails. */
async function withDaemon(fn: (daemon: Awaited<ReturnType<typeof daemonIn>>) => Promise<void>) {
  const root = await tempDir();
  const daemon = await daemonIn(root);
  try {
    await fn(daemon);
  } finally {
    await daemon.close();
    await removeDir(root);
  }
}

const rows = [
  [0, 12.8, 5, 4.7],
  [10.9, 10.6, 2.8, 4.5],
  [0.8, 11.7, 7.2, 2.3],
];
const records = rows.map(([precipitation, temp_max, temp_min, wind]) => ({
  precipitation,
  temp_max,
  temp_min,
  wind,
}));

void describe("a deployment started through the daemon", () => {
  let root: string;
  let daemon: Awaited<ReturnType<typeof daemonIn>>;
  let deployment: Deployment;
  let auth: Record<string, string>;
  const worker = (method: string, path: string, body?: unknown, headers = auth) =>
    call(deployment.port!, method, path, headers, body);

  before(async () => {
    root = await tempDir();
    daemon = await daemonIn(root);
    auth = { Authorization: `Bearer ${daemon.info.token}` };
    const run = seedRun(daemon.ctx.db, daemon.ctx.ws.objectsDir, linearSoftmaxModel());
    const version = await daemon.client.call<ModelVersion>(
      "POST",
      "/api/v1/models/weather-model/versions",
      { runId: run.runId },
    );
    assert.equal(version.version, 1);
    deployment = await daemon.client.call<Deployment>("POST", "/api/v1/deployments", {
      model: "weather-model",
    });
  });

  after(async () => {
    await daemon.close();
    await removeDir(root);
  });

  void test("is ready on a 127.0.0.1 port and listed by the daemon", async () => {
    assert.equal(deployment.state, "ready");
    assert.equal(deployment.url, `http://127.0.0.1:${deployment.port}`);
    assert.ok(deployment.pid && isAlive(deployment.pid));
    const listed = await daemon.client.call<Deployment[]>("GET", "/api/v1/deployments");
    assert.deepEqual(
      listed.map((d) => [d.name, d.version, d.state]),
      [["weather-model", 1, "ready"]],
    );
    const models = await daemon.client.call<RegisteredModel[]>("GET", "/api/v1/models");
    assert.deepEqual(
      models.map((m) => m.versions.length),
      [1],
    );
  });

  void test("answers OIP health, metadata and an infer with the fixture's math", async () => {
    assert.equal((await worker("GET", "/v2/health/ready")).status, 200);
    const meta = await worker("GET", "/v2/models/weather-model");
    assert.equal(meta.json.platform, "onnxruntime");
    assert.deepEqual(meta.json.inputs, [{ name: "features", datatype: "FP32", shape: [-1, 4] }]);

    const answer = await worker("POST", "/v2/models/weather-model/infer", {
      id: "r1",
      inputs: [{ name: "features", shape: [3, 4], datatype: "FP32", data: rows }],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.model_name, "weather-model");
    assert.equal(answer.json.id, "r1");
    const [probabilities, label] = answer.json.outputs as {
      name: string;
      shape: number[];
      datatype: string;
      data: number[];
    }[];
    const expected = expectedLinearSoftmax(rows);
    assert.deepEqual(
      [probabilities!.name, probabilities!.shape, probabilities!.datatype],
      ["probabilities", [3, 3], "FP32"],
    );
    probabilities!.data.forEach((p, i) =>
      assert.ok(Math.abs(p - expected[Math.floor(i / 3)]!.probabilities[i % 3]!) < 1e-5),
    );
    assert.deepEqual(
      [label!.name, label!.datatype, label!.data],
      ["label", "INT64", expected.map((e) => e.label)],
    );
  });

  void test("answers /predict with class names and probabilities per record", async () => {
    const answer = await worker("POST", "/predict", { records });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.model, "weather-model");
    assert.equal(answer.json.version, 1);
    const predictions = answer.json.predictions as {
      label: string;
      probabilities: Record<string, number>;
    }[];
    expectedLinearSoftmax(rows).forEach((e, i) => {
      assert.equal(predictions[i]!.label, weatherLabels[e.label]);
      weatherLabels.forEach((l, j) =>
        assert.ok(Math.abs(predictions[i]!.probabilities[l]! - e.probabilities[j]!) < 1e-5),
      );
    });
    const bare = await worker("POST", "/predict", records.slice(0, 1));
    assert.equal(bare.status, 200);
  });

  void test("refuses a wrong feature name, a non-number, a wrong datatype or shape with 400", async () => {
    const wrongName = await worker("POST", "/predict", {
      records: [{ precipitation: 0, temp: 1, temp_min: 2, wind: 3 }],
    });
    assert.equal(wrongName.status, 400);
    assert.equal(
      wrongName.json.error,
      "record 0 has an unknown feature 'temp'; expected precipitation, temp_max, temp_min, wind.",
    );

    const notNumber = await worker("POST", "/predict", [
      records[0],
      { ...records[1], wind: "high" },
    ]);
    assert.equal(notNumber.status, 400);
    assert.match(notNumber.json.error as string, /record 1 field 'wind'/);

    const dtype = await worker("POST", "/v2/models/weather-model/infer", {
      inputs: [{ name: "features", shape: [1, 4], datatype: "INT64", data: [1, 2, 3, 4] }],
    });
    assert.equal(dtype.status, 400);
    assert.match(dtype.json.error as string, /datatype "INT64"; the model expects FP32/);

    const shape = await worker("POST", "/v2/models/weather-model/infer", {
      inputs: [{ name: "features", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }],
    });
    assert.equal(shape.status, 400);
    assert.match(shape.json.error as string, /shape \[1,3\]; the model expects \[-1,4\]/);

    const notJson = await worker("POST", "/predict", "{not json");
    assert.equal(notJson.status, 400);
    assert.equal((await worker("GET", "/v2/health/live")).status, 200);
  });

  void test("refuses an oversized body with 413 and an unknown model path with 404", async () => {
    const big = `[${"1,".repeat(4.5 * 1024 * 1024)}1]`;
    const tooLarge = await worker("POST", "/predict", big);
    assert.equal(tooLarge.status, 413);
    const other = await worker("POST", "/v2/models/other/infer", { inputs: [] });
    assert.equal(other.status, 404);
    assert.match(other.json.error as string, /serves model 'weather-model', not 'other'/);
  });

  void test("refuses a request without the token (401) or with a foreign Host (403)", async () => {
    assert.equal((await worker("POST", "/predict", { records }, {})).status, 401);
    assert.equal(
      (await worker("GET", "/v2/health/live", undefined, { ...auth, Host: "evil.example" })).status,
      403,
    );
    assert.equal(
      (
        await worker("GET", "/v2/health/live", undefined, {
          ...auth,
          Origin: "http://evil.example",
        })
      ).status,
      403,
    );
  });

  void test("redeploying a new version switches it in on the same port, and undeploy stops it", async () => {
    const run = seedRun(
      daemon.ctx.db,
      daemon.ctx.ws.objectsDir,
      linearSoftmaxModel({ bias: [5, 0, 0] }),
    );
    await daemon.client.call("POST", "/api/v1/models/weather-model/versions", { runId: run.runId });
    const next = await daemon.client.call<Deployment>("POST", "/api/v1/deployments", {
      model: "weather-model",
    });
    assert.equal(next.version, 2);
    assert.deepEqual([next.pid, next.url], [deployment.pid, deployment.url]);
    deployment = next;
    const answer = await worker("POST", "/predict", { records });
    assert.equal(answer.json.version, 2);

    const stopped = await daemon.client.call<Deployment>(
      "DELETE",
      "/api/v1/deployments/weather-model",
    );
    assert.equal(stopped.state, "stopped");
    assert.ok(await waitGone(next.pid!), "undeploy stops the worker process");
  });

  void test("deploying an unknown model is a 404 naming it", async () => {
    await assert.rejects(
      daemon.client.call("POST", "/api/v1/deployments", { model: "nope" }),
      (err: Error) => {
        assert.match(err.message, /No model named 'nope'/);
        return true;
      },
    );
  });
});

void test("a worker that dies is reported failed with its exit, and closing the daemon stops the others", () =>
  withDaemon(async (daemon) => {
    const run = seedRun(daemon.ctx.db, daemon.ctx.ws.objectsDir, linearSoftmaxModel());
    const deploy = async (model: string) => {
      await daemon.client.call("POST", `/api/v1/models/${model}/versions`, { runId: run.runId });
      return daemon.client.call<Deployment>("POST", "/api/v1/deployments", { model, version: 1 });
    };
    const [doomed, survivor] = [await deploy("doomed"), await deploy("survivor")];
    const failures: Deployment[] = [];
    const unsubscribe = daemon.ctx.events.on((event) => {
      if (event.type === "deployments/changed" && event.name === "doomed") {
        const now = daemon.ctx.db
          .prepare("SELECT state, error, port FROM deployments WHERE name = 'doomed'")
          .get() as Deployment;
        if (now.state === "failed") {
          failures.push(now);
        }
      }
    });

    process.kill(doomed.pid!, "SIGKILL");
    assert.ok(await waitGone(doomed.pid!));
    for (let i = 0; i < 100 && failures.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    unsubscribe();
    assert.equal(failures[0]?.state, "failed");
    assert.match(failures[0]?.error ?? "", /exited \(SIGKILL\)/);
    assert.equal(failures[0]?.port, null);

    assert.ok(isAlive(survivor.pid!));
    await daemon.close();
    assert.ok(await waitGone(survivor.pid!), "the worker exits with the daemon");
  }));

void test("a version onnxruntime cannot load fails with LATHE_MODEL_LOAD and leaves the old one serving", () =>
  withDaemon(async (daemon) => {
    const { db, ws } = daemon.ctx;
    const good = seedRun(db, ws.objectsDir, linearSoftmaxModel());
    const bad = seedRun(db, ws.objectsDir, unloadableModel());
    const registerRun = (model: string, runId: string) =>
      daemon.client.call("POST", `/api/v1/models/${model}/versions`, { runId });
    const deploy = (model: string, version: number) =>
      daemon.client.call<Deployment>("POST", "/api/v1/deployments", { model, version });
    const loadError = (err: unknown) => {
      assert.equal((err as { code?: string }).code, "LATHE_MODEL_LOAD");
      assert.match((err as Error).message, /NoSuchOperator/);
      return true;
    };

    await registerRun("m", good.runId);
    await registerRun("m", bad.runId);
    const serving = await deploy("m", 1);
    await assert.rejects(deploy("m", 2), loadError);
    const still = await daemon.client.call<Deployment>("GET", "/api/v1/deployments/m");
    assert.deepEqual([still.state, still.version, still.pid], ["ready", 1, serving.pid]);

    await registerRun("broken", bad.runId);
    await assert.rejects(deploy("broken", 1), loadError);
    const failed = await daemon.client.call<Deployment>("GET", "/api/v1/deployments/broken");
    assert.equal(failed.state, "failed");
    assert.match(failed.error ?? "", /NoSuchOperator/);
  }));
