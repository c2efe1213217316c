/**
 * The registry in a real editor (issue #5): examples/weather with a `models:` gate; `lathe repro`
 * from the CLI registers two versions (the gate moves @challenger through the running daemon), then
 * in the Models view a person promotes v1 to `champion` from its context menu, sees the badge, opens
 * its model card, rolls the alias back after promoting v2, and opens v1's run (selected in the Runs
 * view, its log in an editor). Screenshots:
 * test-results/e2e/registry/.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  contextMenu as harnessContextMenu,
  launch,
  openViewContainer,
  repoRoot,
  treeRow,
  waitFor,
  waitForToast,
  walk,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 600_000;
const example = join(repoRoot, "examples", "weather");
const lathe = join(repoRoot, "bin", "lathe.js");

const pipeline = `${readFileSync(join(example, "lathe.yaml"), "utf8")}models:
  weather-model:
    from: train
    metrics: [evaluate]
    alias: challenger
    gate:
      - accuracy >= 0.5
`;
const params = (epochs) =>
  readFileSync(join(example, "params.yaml"), "utf8").replace(/epochs: \d+/, `epochs: ${epochs}`);

test(
  "registry: promote a version to champion from the Models view",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = await launch({
      name: "registry",
      workspaceDir: example,
      workspaceFiles: { "lathe.yaml": pipeline, "params.yaml": params(100) },
    });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the registry walk-through",
    });
  },
);

function cli(s, args) {
  return execFileSync(process.execPath, [lathe, ...args, "--root", s.workspace], {
    cwd: s.workspace,
    encoding: "utf8",
    stdio: "pipe",
    timeout: 240_000,
  });
}

async function walkThrough(s) {
  const { page } = s;
  await openViewContainer(page, "Lathe");
  await s.daemonInfo({ timeoutMs: 60_000 });

  // Two versions through the gate, from the CLI beside the running daemon (as CI would).
  cli(s, ["repro"]);
  writeFileSync(join(s.workspace, "params.yaml"), params(60));
  cli(s, ["repro"]);

  const v2 = treeRow(page, /^\s*v2\s*@challenger · gate passed/).first();
  await v2.waitFor({ state: "visible", timeout: 60_000 });
  const v1 = treeRow(page, /^\s*v1\s*gate passed/).first();
  await v1.waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("01-versions");

  // Promote v1 to champion from its context menu: pick the alias, give a reason.
  await promote(s, v1, "best on 2015");
  await waitForToast(page, /weather-model@champion → v1/, { timeoutMs: 30_000 });
  await treeRow(page, /^\s*v1\s*@champion · gate passed/)
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await treeRow(page, /^\s*weather-model\s*2 versions · @challenger v2 · @champion v1/)
    .first()
    .waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("02-champion-badge");

  // The model card, in the markdown preview.
  await contextMenu(s, treeRow(page, /^\s*v1\s*@champion/).first(), "Open Model Card");
  await waitFor(
    async () => {
      for (const frame of page.frames()) {
        const text = await frame
          .locator("body")
          .innerText({ timeout: 1000 })
          .catch(() => "");
        if (/weather-model — version 1/.test(text) && /@champion/.test(text)) return true;
      }
      return undefined;
    },
    { timeoutMs: 30_000, what: "the model card preview" },
  );
  await s.shot("03-model-card");

  // Compare v1 with v2: both versions' metrics and params side by side.
  await contextMenu(s, treeRow(page, /^\s*v1\s*@champion/).first(), "Compare Versions…", {
    ran: quickPickRow(page, /^\s*v2/),
  });
  await quickPickRow(page, /^\s*v2/).click();
  await waitFor(
    async () => {
      for (const frame of page.frames()) {
        const text = await frame
          .locator("body")
          .innerText({ timeout: 1000 })
          .catch(() => "");
        if (/weather-model: v1 ↔ v2/.test(text) && /train\.epochs\s+100\s+60/.test(text))
          return true;
      }
      return undefined;
    },
    { timeoutMs: 30_000, what: "the comparison preview" },
  );
  await s.shot("03b-compare");

  // Promote v2, then Roll Back from the model's row: @champion is back on v1.
  await promote(s, treeRow(page, /^\s*v2\s*@challenger/).first(), "");
  await waitForToast(page, /weather-model@champion → v2/, { timeoutMs: 30_000 });
  await contextMenu(
    s,
    treeRow(page, /^\s*weather-model\s*\d+ versions/).first(),
    "Roll Back Alias…",
    { ran: quickPickRow(page, /@champion/) },
  );
  await quickPickRow(page, /@champion/).click();
  await waitForToast(page, /weather-model@champion rolled back to v1/, { timeoutMs: 30_000 });
  await treeRow(page, /^\s*v1\s*@champion/)
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("04-rolled-back");

  // Open Run: the version's train run is selected in the Runs view (its repro opened on the way)
  // and its log opens in an editor.
  await contextMenu(s, treeRow(page, /^\s*v1\s*@champion/).first(), "Open Run");
  await treeRow(page, /^\s*train\s*accuracy/, { view: "Runs" })
    .and(page.locator(".selected"))
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await page
    .locator(".tabs-container .tab", { hasText: /train/ })
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("05-open-run");

  const history = cli(s, ["models", "history", "weather-model"]);
  if (!/@champion +2 → 1 .*editor/.test(history) || !/best on 2015 · editor/.test(history)) {
    throw new Error(`the audit log lacks the editor's moves:\n${history}`);
  }
}

/** The harness's context menu (it retries a click the live tree swallowed), on `s.page`. */
function contextMenu(s, row, label, options) {
  return harnessContextMenu(s.page, row, label, options);
}

function quickPickRow(page, text) {
  return page.locator(".quick-input-widget .monaco-list-row").filter({ hasText: text }).first();
}

async function promote(s, row, reason) {
  await contextMenu(s, row, "Promote…", { ran: quickPickRow(s.page, /champion/) });
  await quickPickRow(s.page, /champion/).click();
  const input = s.page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await waitFor(
    async () =>
      (await s.page.locator(".quick-input-widget").innerText()).includes("Why point")
        ? true
        : undefined,
    {
      timeoutMs: 10_000,
      what: "the reason prompt",
    },
  );
  if (reason) await input.fill(reason);
  await s.shot(reason ? "02a-promote-reason" : "03a-promote-v2");
  await input.press("Enter");
}
