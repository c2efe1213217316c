/**
 * The walking skeleton in a real editor (issue #2): open examples/weather in code-server with the
 * Lathe .vsix installed, reproduce the pipeline from the palette, see the evaluate run and its
 * accuracy in the Runs view, register the model from the run's context menu, deploy it from the
 * Models view, read the URL from the status bar and get a prediction from it.
 *
 * Needs `bash scripts/e2e-setup.sh` and a .vsix (`node scripts/package.mjs`); `npm run test:e2e`
 * does all of it. Screenshots of each step: test-results/e2e/weather/.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  contextMenu,
  inlineAction,
  launch,
  openViewContainer,
  repoRoot,
  runCommand,
  statusBarText,
  toast,
  treeRow,
  waitFor,
  waitForToast,
  walk,
} from "./harness.mjs";

/** Training 500 epochs on 2 shared cores takes a while; each stage gets this long. */
const REPRO_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 600_000;

test(
  "weather: reproduce, see the run, register, deploy, predict",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = await launch({
      name: "weather",
      workspaceDir: join(repoRoot, "examples", "weather"),
    });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the weather walk-through",
    });
  },
);

async function walkThrough(s) {
  const { page } = s;

  // 1. The extension activated (lathe.yaml), started the daemon and shows the Lathe container.
  await openViewContainer(page, "Lathe");
  const info = await s.daemonInfo({ timeoutMs: 60_000 });
  await waitFor(async () => /(^|\n)Lathe$/m.test(await statusBarText(page)), {
    timeoutMs: 60_000,
    what: "the Lathe status item",
  });
  // The welcome content shows only once the daemon is up (`lathe.daemon == up`).
  await page
    .locator(".welcome-view-content", { hasText: "No runs yet" })
    .first()
    .waitFor({ state: "visible", timeout: 60_000 });
  await s.shot("01-lathe-view");

  // Track the data as a user would, once the daemon is up (so the two never create the store at
  // once). The workspace sits under the repo, so the example's scripts find yaml, onnx-proto and
  // onnxruntime-node in the repo's node_modules by Node's usual lookup.
  execFileSync(
    process.execPath,
    [join(repoRoot, "bin", "lathe.js"), "add", "data/weather.csv", "--root", s.workspace],
    {
      cwd: s.workspace,
      stdio: "pipe",
    },
  );

  // 2. F1 → "Lathe: Reproduce Pipeline": a progress toast, then the summary toast.
  await runCommand(page, "Lathe: Reproduce Pipeline");
  await waitForToast(page, /Pipeline reproduced: 3 ran, 0 skipped/, {
    timeoutMs: REPRO_TIMEOUT_MS,
  });

  // 3. The Runs view shows the repro with its stage runs; evaluate carries the accuracy.
  const evaluate = treeRow(page, /evaluate.*accuracy \d/).first();
  await evaluate.waitFor({ state: "visible", timeout: 30_000 });
  await treeRow(page, /train.*accuracy \d/)
    .first()
    .waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("02-runs");

  // 4. Register the model from the evaluate run's context menu (its train sibling wrote the .onnx).
  await contextMenu(page, evaluate, "Register Model…");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill("weather-model");
  await s.shot("03-register-name");
  await input.press("Enter");
  await waitForToast(page, /Registered weather-model v1/, { timeoutMs: 30_000 });
  const version = treeRow(page, /^\s*v1\s*accuracy.*from train run/).first();
  await version.waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("04-registered");

  // 5. Deploy from the Models view's inline action on v1.
  await inlineAction(
    page,
    version,
    "Deploy",
    toast(page, /Lathe: deploying weather-model v1|Deployed weather-model v1/),
  );
  await waitForToast(page, /Deployed weather-model v1 at http:\/\/127\.0\.0\.1:\d+/, {
    timeoutMs: 90_000,
  });
  const text = await waitFor(
    async () => {
      const t = await statusBarText(page);
      return /weather-model v1: http:\/\/127\.0\.0\.1:\d+/.test(t) ? t : undefined;
    },
    { timeoutMs: 30_000, what: "the deployment URL in the status bar" },
  );
  const url = /weather-model v1: (http:\/\/127\.0\.0\.1:\d+)/.exec(text)[1];
  await treeRow(page, /^\s*v1\s*http:\/\/127\.0\.0\.1:\d+/)
    .first()
    .waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("05-deployed");

  // 6. A prediction from the served model, with the daemon's token.
  const { token } = JSON.parse(readFileSync(join(s.workspace, ".lathe", "daemon.json"), "utf8"));
  assert.equal(token, info.token);
  const res = await fetch(`${url}/predict`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      records: [{ precipitation: 12.4, temp_max: 9.4, temp_min: 5.0, wind: 5.1 }],
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.predictions.length, 1);
  assert.match(String(body.predictions[0].label), /^(drizzle|fog|rain|snow|sun)$/);
}
