import assert from "node:assert/strict";
import { test } from "node:test";
import { closeContext, openContext } from "../../daemon/src/context";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import { daemonIn, removeDir, runCli, tempDir } from "../helpers";

// Runs dist/lathe.js (`node scripts/build.mjs --quiet` first); deploy starts a real daemon.

void test("undeploy without a daemon is exit 2: nothing is deployed", async () => {
  const root = await tempDir();
  const ctx = openContext(root, { quiet: true });
  closeContext(ctx);
  const res = await runCli(["undeploy", "weather-model"], { cwd: root });
  assert.equal(res.code, 2, res.stdout);
  assert.match(res.stderr, /weather-model is not deployed \(nothing is deployed: no Lathe daemon/);
  await removeDir(root);
});

void test("a deploy that fails stops the daemon it started, and leaves a running one alone", async () => {
  const root = await tempDir();
  closeContext(openContext(root, { quiet: true }));

  const failed = await runCli(["deploy", "nosuch"], { cwd: root });
  assert.equal(failed.code, 2, failed.stdout);
  assert.match(failed.stderr, /nosuch/);
  const after = await runCli(["daemon", "status", "--json"], { cwd: root });
  assert.equal((JSON.parse(after.stdout) as { running: boolean }).running, false, after.stdout);

  const daemon = await daemonIn(root);
  const again = await runCli(["deploy", "nosuch"], { cwd: root });
  assert.equal(again.code, 2, again.stdout);
  const still = await runCli(["daemon", "status", "--json"], { cwd: root });
  assert.equal((JSON.parse(still.stdout) as { running: boolean }).running, true, still.stdout);

  await daemon.close();
  await removeDir(root);
});

void test("the CLI registers, deploys (with a split), predicts and undeploys, with exit 2 for bad input", async () => {
  const root = await tempDir();
  const ctx = openContext(root, { quiet: true });
  const { runId } = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel(), {
    metrics: { f1: 0.7 },
  });
  closeContext(ctx);
  const lathe = (...args: string[]) => runCli(["--root", root, ...args], { cwd: root });

  try {
    const registered = await lathe(
      "--json",
      "models",
      "register",
      "weather-model",
      "--from",
      runId,
    );
    assert.equal(registered.code, 0, registered.stderr);
    assert.equal((JSON.parse(registered.stdout) as { version: number }).version, 1);

    const unknownRun = await lathe("models", "register", "weather-model", "--from", "nope");
    assert.equal(unknownRun.code, 2);
    assert.match(
      unknownRun.stderr,
      /No run 'nope': a run id is 32 hex characters, or a unique prefix/,
    );

    const listed = await lathe("models", "list");
    assert.match(listed.stdout, /weather-model\n {2}v1 .* f1=0\.7/);

    const deployed = await lathe("--json", "deploy", "weather-model@1");
    assert.equal(deployed.code, 0, deployed.stderr);
    const { url, state } = JSON.parse(deployed.stdout) as { url: string; state: string };
    assert.equal(state, "ready");
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const listedDeployments = await lathe("deployments");
    assert.equal(listedDeployments.code, 0, listedDeployments.stderr);
    assert.match(
      listedDeployments.stdout,
      new RegExp(`^weather-model +ready +weather-model@1 \\(v1 100%\\) +${url}$`, "m"),
    );
    const asJson = JSON.parse((await lathe("--json", "deployments")).stdout) as { url: string }[];
    assert.deepEqual(
      asJson.map((d) => d.url),
      [url],
    );

    const record = { precipitation: 0, temp_max: 12, temp_min: 5, wind: 3 };
    const predicted = await lathe(
      "--json",
      "predict",
      "weather-model",
      "--records",
      JSON.stringify([record]),
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    const answer = JSON.parse(predicted.stdout) as { predictions: { label: string }[] };
    assert.equal(answer.predictions[0]!.label, "sun");

    const { wind: _wind, ...partial } = record;
    const wrong = await lathe(
      "predict",
      "weather-model",
      "--records",
      JSON.stringify([{ ...partial, gusts: 3 }]),
    );
    assert.equal(wrong.code, 2);
    assert.match(
      wrong.stderr,
      /record 0 has an unknown feature 'gusts'; expected precipitation, temp_max, temp_min, wind/,
    );

    // A typo names what is deployed instead of suggesting to deploy the typo.
    const typo = await lathe("predict", "weathr-model", "--records", JSON.stringify([record]));
    assert.equal(typo.code, 2, typo.stdout);
    assert.match(typo.stderr, /No deployment named 'weathr-model' \(deployed: weather-model\)/);

    const registeredAgain = await lathe("models", "register", "weather-model", "--from", runId);
    assert.equal(registeredAgain.code, 0, registeredAgain.stderr);
    const split = await lathe(
      "deploy",
      "weather-model@1",
      "--split",
      "weather-model@2:25",
      "--max-delay-ms",
      "0",
    );
    assert.equal(split.code, 0, split.stderr);
    assert.match(
      split.stdout,
      new RegExp(`Deployed weather-model@1 75%, weather-model@2 25% at ${url}\n`),
    );
    for (const flags of [
      ["--split", "weather-model@2"],
      ["--max-batch-rows", "0"],
      ["--max-queue", "x"],
    ]) {
      const refused = await lathe("deploy", "weather-model", ...flags);
      assert.equal(refused.code, 2, flags.join(" "));
      assert.match(
        refused.stderr,
        new RegExp(`option '${flags[0]} .*' argument '${flags[1]}' is invalid`),
      );
    }

    const never = await lathe("undeploy", "other-model");
    assert.equal(never.code, 2);
    assert.match(never.stderr, /other-model is not deployed \(deployed: weather-model\)\./);
    const undeployed = await lathe("undeploy", "weather-model");
    assert.equal(undeployed.code, 0, undeployed.stderr);
    assert.equal(undeployed.stdout, "Stopped the deployment of weather-model.\n");
    const again = await lathe("undeploy", "weather-model");
    assert.equal(again.code, 2, again.stdout);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, /^lathe: weather-model is not deployed \(nothing is deployed\)\.$/m);
    const againJson = await lathe("--json", "undeploy", "weather-model");
    assert.equal(againJson.code, 2);
    assert.deepEqual(JSON.parse(againJson.stderr), {
      error: {
        code: "LATHE_NOT_FOUND",
        message: "weather-model is not deployed (nothing is deployed).",
        data: { name: "weather-model", deployed: [] },
      },
    });
    const afterwards = await lathe(
      "predict",
      "weather-model",
      "--records",
      JSON.stringify([record]),
    );
    assert.equal(afterwards.code, 1);
    assert.match(afterwards.stderr, /is stopped/);
  } finally {
    await lathe("daemon", "stop");
    await removeDir(root);
  }
});
