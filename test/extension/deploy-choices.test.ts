/**
 * Deploy on a model's row in the Models view (#5), without the editor: the choices that
 * extension/src/models/deployChoices.ts makes of a model read from a real daemon over HTTP, and
 * the request of `weather@champion` deployed for real: the deployment follows the alias.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Deployment, RegisteredModel } from "../../schemas/api";
import {
  deploymentLabel,
  modelDeployChoices,
  requestLabel,
  versionDeployNote,
} from "../../extension/src/models/deployChoices";
import { linearSoftmaxModel } from "../fixtures/onnx";
import {
  deploy,
  registerVersions,
  sleep,
  withDaemon,
  type TestDaemon,
} from "../daemon/serving-helpers";

// The worker runs from dist/: `npm run build` first.

const models = [0, 1, 2].map((b) => linearSoftmaxModel({ bias: [b, 0, 0] }));

function setAlias(daemon: TestDaemon, alias: string, version: number) {
  return daemon.client.call("PUT", `/api/v1/models/weather/aliases/${alias}`, { version });
}

const model = (daemon: TestDaemon) =>
  daemon.client.call<RegisteredModel>("GET", "/api/v1/models/weather");

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

void test("a model's row offers each alias, then the latest version pinned; none without aliases only the latest", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", models);
    const plain = modelDeployChoices(await model(daemon));
    assert.deepEqual(
      plain.map((c) => [c.label, c.request]),
      [["Latest version (v3)", { model: "weather", version: 3 }]],
    );

    await setAlias(daemon, "champion", 2);
    await setAlias(daemon, "challenger", 3);
    const choices = modelDeployChoices(await model(daemon));
    assert.deepEqual(
      choices.map((c) => [c.label, c.request]),
      [
        ["weather@challenger → v3", { model: "weather@challenger" }],
        ["weather@champion → v2", { model: "weather@champion" }],
        ["Latest version (v3)", { model: "weather", version: 3 }],
      ],
    );
    assert.match(choices[1]!.description, /follows @champion/);
    assert.match(choices[2]!.description, /^pinned/);
    assert.deepEqual(
      choices.map((c) => requestLabel(c.request)),
      ["weather@challenger", "weather@champion", "weather v3"],
    );

    const v2 = (await model(daemon)).versions.find((v) => v.version === 2)!;
    assert.equal(
      versionDeployNote(v2),
      "Deploy here pins v2. To follow @champion as it moves, use Deploy on the weather row.",
    );
    const v1 = (await model(daemon)).versions.find((v) => v.version === 1)!;
    assert.equal(versionDeployNote(v1), undefined);
  }));

void test("the alias choice deploys weather@champion, which follows the alias when it moves", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", models);
    await setAlias(daemon, "champion", 1);
    const choice = modelDeployChoices(await model(daemon)).find((c) =>
      c.label.startsWith("weather@champion"),
    )!;

    const first = await deploy(daemon, { ...choice.request });
    assert.deepEqual([first.target, first.version], ["weather@champion", 1]);
    assert.equal(deploymentLabel(first), "weather@champion (v1)");

    await setAlias(daemon, "champion", 3);
    const moved = await waitForVersion(daemon, 3);
    assert.equal(moved.target, "weather@champion");
    assert.equal(deploymentLabel(moved), "weather@champion (v3)");

    const pinned = modelDeployChoices(await model(daemon)).at(-1)!;
    const latest = await deploy(daemon, { ...pinned.request });
    assert.deepEqual([latest.target, deploymentLabel(latest)], ["weather@3", "weather v3"]);
  }));
