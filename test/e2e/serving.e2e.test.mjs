/**
 * Serving in a real editor (issue #5): a registered model is deployed from the Models view
 * (progress toast, then the URL in the status bar), shows up in the Deployments view as ready,
 * and "Try it" opens a panel with a request prefilled from the model's signature; Send shows the
 * model's answer; a worker killed with SIGKILL is reported and comes back on the same URL. The
 * weather example runs with few epochs so the run is quick.
 *
 * Needs `bash scripts/e2e-setup.sh` and a .vsix (`node scripts/package.mjs`); `npm run test:e2e`
 * does all of it. Screenshots of each step: test-results/e2e/serving/.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import {
  inlineAction,
  launch,
  openViewContainer,
  repoRoot,
  statusBarText,
  toast,
  treeRow,
  waitFor,
  waitForOutcome,
  waitForToast,
  webviewFrame,
  walk,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 420_000;
const PARAMS = `prepare:
  city: Seattle
  train_years: [2012, 2013, 2014]
  test_year: 2015
train:
  epochs: 20
  lr: 1.0
  l2: 0.001
  seed: 7
`;

test(
  "serving: deploy from the Models view, URL in the status bar, Deployments view, Try it",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = await launch({
      name: "serving",
      workspaceDir: join(repoRoot, "examples", "weather"),
      workspaceFiles: { "params.yaml": PARAMS },
    });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the serving walk-through",
    });
  },
);

async function walkThrough(s) {
  const { page } = s;
  await openViewContainer(page, "Lathe");
  const info = await s.daemonInfo({ timeoutMs: 60_000 });
  const lathe = (...args) =>
    execFileSync(
      process.execPath,
      [join(repoRoot, "bin", "lathe.js"), ...args, "--root", s.workspace],
      {
        cwd: s.workspace,
        stdio: "pipe",
        timeout: 240_000,
      },
    ).toString();

  // 1. A trained model, registered as weather-model v1 (the CLI and the editor share the daemon).
  lathe("add", "data/weather.csv");
  lathe("repro");
  const runs = await call(info, "GET", "/api/v1/runs");
  const train = runs.find((r) => r.stage === "train");
  assert.ok(train, `a train run among ${runs.map((r) => r.stage).join(", ")}`);
  await call(info, "POST", "/api/v1/models/weather-model/versions", { runId: train.id });

  // 2. Deploy v1 from the Models view's inline action: progress, then the URL in the status bar.
  const version = treeRow(page, /^\s*v1\D.*from train run/).first();
  await version.waitFor({ state: "visible", timeout: 60_000 });
  await s.shot("01-registered");
  await inlineAction(
    page,
    version,
    "Deploy",
    toast(page, /Lathe: deploying weather-model v1|Deployed weather-model v1/),
  );
  await waitForOutcome(
    page,
    /Deployed weather-model v1 at http:\/\/127\.0\.0\.1:\d+/,
    /Deploying .*failed/,
    { timeoutMs: 150_000 },
  );
  const text = await waitFor(
    async () => {
      const t = await statusBarText(page);
      return /weather-model v1: http:\/\/127\.0\.0\.1:\d+/.test(t) ? t : undefined;
    },
    { timeoutMs: 30_000, what: "the deployment URL in the status bar" },
  );
  const url = /weather-model v1: (http:\/\/127\.0\.0\.1:\d+)/.exec(text)[1];
  await s.shot("02-deployed-status-bar");

  // 3. The Deployments view lists it as ready, with its traffic figures after a few requests.
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${url}/predict`, {
      method: "POST",
      headers: { Authorization: `Bearer ${info.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ records: [{ precipitation: 1, temp_max: 9, temp_min: 4, wind: 3 }] }),
    });
    assert.equal(res.status, 200);
  }
  const row = treeRow(
    page,
    /weather-model\s*v1 · ready · [\d.]+ req\/s · p95 [\d.]+ ms · 0 errors/,
  ).first();
  await row.waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("03-deployments-view");

  // 4. Try it: the panel opens with an OIP request prefilled from the signature; Send answers.
  const frame = webviewFrame(page);
  const send = frame.locator("#tryit-send");
  await inlineAction(page, row, "Try It", send, { timeoutMs: 30_000 });
  const prefilled = await frame.locator("vscode-text-area").evaluate((el) => el.value);
  const request = JSON.parse(prefilled);
  assert.deepEqual(request.inputs[0].shape, [1, 4]);
  assert.equal(request.inputs[0].name, "features");
  await s.shot("04-try-it-prefilled");
  await send.click();
  const response = frame.locator("#tryit-response");
  await waitFor(
    async () => /"model_name": "weather-model"/.test((await response.textContent()) ?? ""),
    {
      timeoutMs: 30_000,
      what: "the model's answer in the Try it panel",
    },
  );
  const answer = JSON.parse(await response.textContent());
  assert.equal(answer.id, "try-1");
  assert.deepEqual(
    answer.outputs.map((o) => [o.name, o.shape]),
    [
      ["probabilities", [1, answer.outputs[0].shape[1]]],
      ["label", [1]],
    ],
  );
  assert.match(await frame.locator(".tryit-status").textContent(), /HTTP 200 · \d+ ms/);
  await s.shot("05-try-it-response");

  // 5. The worker is killed: the editor says so, and the daemon brings it back on the same URL.
  const before = await call(info, "GET", "/api/v1/deployments/weather-model");
  process.kill(before.pid, "SIGKILL");
  await waitForToast(
    page,
    /The deployment weather-model crashed; Lathe (is restarting|restarted) it/,
    {
      timeoutMs: 30_000,
    },
  );
  const after = await waitFor(
    async () => {
      const d = await call(info, "GET", "/api/v1/deployments/weather-model");
      return d.state === "ready" && d.pid !== before.pid ? d : undefined;
    },
    { timeoutMs: 30_000, what: "the restarted deployment" },
  );
  assert.deepEqual([after.url, after.restarts], [url, 1]);
  await s.shot("06-restarted");
}

async function call(info, method, path, body) {
  const res = await fetch(`http://127.0.0.1:${info.port}${path}`, {
    method,
    headers: { Authorization: `Bearer ${info.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
