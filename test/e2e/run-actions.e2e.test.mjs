/**
 * Context actions on runs in a real editor (issue #3): reproduce a one-stage pipeline, open the
 * stage's output from the run's Artifacts, re-run it with an edited param (the params file is
 * edited with its comment kept, and a new tracked run records the new value), tag a run, delete
 * it after the confirmation and undo that.
 *
 * Needs `bash scripts/e2e-setup.sh` and a .vsix (`node scripts/package.mjs`); `npm run test:e2e`
 * does all of it. Screenshots of each step: test-results/e2e/run-actions/.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  clickUntil,
  contextMenu,
  expandRow,
  launch,
  openViewContainer,
  runCommand,
  treeRow,
  collapseViews,
  waitFor,
  waitForToast,
  walk,
  daemonApi,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 300_000;
const FILES = {
  "lathe.yaml": `stages:
  train:
    cmd: node src/train.js
    deps: [src/train.js]
    params: [train.lr, train.epochs]
    outs: [model.txt]
`,
  "params.yaml": "# e2e params\ntrain:\n  lr: 0.1 # the learning rate\n  epochs: 3\n",
  "src/train.js": `const fs = require("fs");
const lr = /lr: (\\S+)/.exec(fs.readFileSync("params.yaml", "utf8"))[1];
fs.writeFileSync("model.txt", \`trained with lr \${lr}\\n\`);
// A param the script logs itself (penguins logs \`model\`): not one Re-run can edit.
require("lathe-client").logParam("model", "linear");
`,
};

test(
  "run actions: open an artifact, re-run with an edited param, tag, delete and undo",
  {
    timeout: TEST_TIMEOUT_MS,
  },
  async () => {
    const s = await launch({ name: "run-actions", workspaceFiles: FILES });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the run-actions walk-through",
    });
  },
);

function quickPickRow(page, text) {
  return page.locator(".quick-input-widget .monaco-list-row", { hasText: text }).first();
}

async function walkThrough(s) {
  const { page } = s;
  await openViewContainer(page, "Lathe");
  const call = daemonApi(await s.daemonInfo({ timeoutMs: 60_000 }));
  await page
    .locator(".welcome-view-content", { hasText: "No runs yet" })
    .first()
    .waitFor({ state: "visible", timeout: 60_000 });

  await collapseViews(page, ["Pipelines", "Models", "Deployments"]);

  // 1. Reproduce: a repro run with its train stage run.
  await runCommand(page, "Lathe: Reproduce Pipeline");
  await waitForToast(page, /Pipeline reproduced: 1 ran/, { timeoutMs: 60_000 });
  const train = treeRow(page, /^\s*train/, { view: "Runs" }).first();
  await train.waitFor({ state: "visible", timeout: 30_000 });

  // 2. The run's Artifacts hold its output; clicking it opens the run's version of the file.
  await expandRow(page, train);
  const artifacts = treeRow(page, /^\s*Artifacts\s*$/).first();
  await artifacts.waitFor({ state: "visible", timeout: 15_000 });
  await treeRow(page, /^\s*data\b|^\s*commit\b|^\s*Params\s*$/)
    .first()
    .waitFor({ state: "visible", timeout: 5_000 });
  await expandRow(page, artifacts);
  const output = treeRow(page, /model\.txt\s*output/).first();
  await output.waitFor({ state: "visible", timeout: 15_000 });
  await clickUntil(page, output, page.locator(".tab", { hasText: "model.txt" }), {
    timeoutMs: 15_000,
  });
  await waitFor(
    async () =>
      /trained\s+with\s+lr\s+0\.1/.test(
        await page.locator(".monaco-editor .view-lines").first().innerText(),
      ),
    { timeoutMs: 10_000, what: "the artifact's text in the editor" },
  );
  await s.shot("01-artifact");

  // 3. Re-run with an edited param: pick train.lr, type 0.5, then run.
  await contextMenu(page, train, "Re-run with Edited Params…", {
    ran: quickPickRow(page, "train.lr"),
  });
  // Only what lathe.yaml declares is offered, not the param the script logged itself.
  assert.equal(
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "model" }).count(),
    0,
  );
  await quickPickRow(page, "train.lr").click();
  const input = page.locator(".quick-input-widget input");
  await waitFor(async () => (await input.inputValue()) === "0.1", {
    timeoutMs: 10_000,
    what: "the input box with the old value",
  });
  await input.fill("0.5");
  await input.press("Enter");
  await quickPickRow(page, "was 0.1").waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("02-edited-param");
  await quickPickRow(page, "Re-run train with these params").click();
  // (The first repro's toast may still show the same text: wait for the runs themselves.)
  const finishedTrains = async () =>
    (await call("GET", "/api/v1/runs")).filter(
      (r) => r.stage === "train" && r.status === "FINISHED",
    );
  await waitFor(async () => (await finishedTrains()).length === 2, {
    timeoutMs: 60_000,
    what: "a second finished train run",
  });
  const params = readFileSync(join(s.workspace, "params.yaml"), "utf8");
  assert.match(params, /^ {2}lr: 0\.5 # the learning rate$/m, params);
  assert.match(params, /^# e2e params$/m);
  const trains = (await finishedTrains()).sort((a, b) => b.startTime - a.startTime);
  assert.equal(trains.length, 2);
  assert.equal(trains[0].params["train.lr"], "0.5");
  assert.equal(trains[1].params["train.lr"], "0.1");
  assert.match(readFileSync(join(s.workspace, "model.txt"), "utf8"), /lr 0\.5/);
  await waitFor(async () => (await treeRow(page, /^\s*repro/).count()) === 2, {
    timeoutMs: 15_000,
    what: "two repro runs in the tree",
  });
  await s.shot("03-rerun");

  // 4. Tag the newest train run.
  const newest = treeRow(page, /^\s*train/, { view: "Runs" }).first();
  await contextMenu(page, newest, "Tag Run…", { ran: input });
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill("best=yes");
  await input.press("Enter");
  await waitFor(
    async () =>
      (await call("GET", `/api/v1/runs/${trains[0].id}`)).tags.best === "yes" ||
      (await call("GET", `/api/v1/runs/${trains[1].id}`)).tags.best === "yes",
    { timeoutMs: 10_000, what: "the tag best=yes on a train run" },
  );

  // 5. Delete the newest repro run after the confirmation; Undo brings it back.
  const repro = treeRow(page, /^\s*repro/).first();
  const dialog = page.locator(".monaco-dialog-box");
  await contextMenu(page, repro, "Delete Run…", { ran: dialog });
  await dialog.waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("04-delete-confirm");
  await dialog.locator(".monaco-button", { hasText: "Delete" }).first().click();
  await waitFor(async () => (await treeRow(page, /^\s*repro/).count()) === 1, {
    timeoutMs: 15_000,
    what: "the deleted repro to leave the tree",
  });
  const toast = await waitForToast(page, /Deleted run repro/, { timeoutMs: 10_000 });
  await toast.locator(".monaco-button", { hasText: "Undo" }).first().click();
  await waitFor(async () => (await treeRow(page, /^\s*repro/).count()) === 2, {
    timeoutMs: 15_000,
    what: "the restored repro back in the tree",
  });
  await s.shot("05-restored");
}
