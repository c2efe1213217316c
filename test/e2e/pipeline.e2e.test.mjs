/**
 * Authoring a pipeline in a real editor (issue #4): open lathe.yaml from the Pipelines view (the
 * stage row opens it at the stage), type a new params entry, press Ctrl+Space and accept a param
 * key completion; type an unknown param key and see its diagnostic (squiggle and Problems), delete
 * it and see the diagnostic go; then Run Stage from the Pipelines view and watch the states move
 * from stale through running to up to date; a failing stage and its log; Cancel from the progress
 * notification. Screenshots: test-results/e2e/pipeline/.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  clickUntil,
  inlineAction,
  launch,
  openViewContainer,
  toast,
  treeRow,
  contextMenu,
  waitFor,
  waitForToast,
  walk,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 420_000;

const LATHE_YAML = `# e2e pipeline
stages:
  prepare:
    cmd: node prepare.js
    deps: [raw.txt, prepare.js]
    params: [prepare.split]
    outs: [prepared.txt]
  train:
    cmd: node train.js
    deps: [prepared.txt, train.js]
    params:
      - train.lr
    outs: [model.txt]
`;

const files = {
  "lathe.yaml": LATHE_YAML,
  "params.yaml": "prepare:\n  split: 0.2\ntrain:\n  lr: 0.1\n  epochs: 10\n",
  "raw.txt": "a\nb\nc\n",
  "prepare.js": `require("fs").writeFileSync("prepared.txt", require("fs").readFileSync("raw.txt"));`,
  // Slow enough (3 s) for the view to show it running.
  "train.js": `setTimeout(() => require("fs").writeFileSync("model.txt", "m"), 3000);`,
};

test(
  "pipeline: complete a param, see a diagnostic come and go, run a stage from the view",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = await launch({ name: "pipeline", workspaceFiles: files });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the pipeline walk-through",
    });
  },
);

async function walkThrough(s) {
  const { page } = s;

  // 1. The Pipelines view lists the stages in DAG order, stale because they never ran.
  await openViewContainer(page, "Lathe");
  await s.daemonInfo({ timeoutMs: 60_000 });
  const prepareRow = treeRow(page, /prepare.*never ran/).first();
  await prepareRow.waitFor({ state: "visible", timeout: 60_000 });
  await treeRow(page, /train.*never ran/)
    .first()
    .waitFor({ state: "visible", timeout: 10_000 });
  const order = await page.locator(".pane-body .monaco-list-row").allInnerTexts();
  const names = order
    .map((t) => /^\s*(prepare|train)(?=never|up|running|failed|stale)/.exec(t)?.[1])
    .filter(Boolean);
  assert.deepEqual(names, ["prepare", "train"], JSON.stringify(order));
  await s.shot("01-pipelines-stale");

  // 2. Clicking the train row opens lathe.yaml at the stage.
  const editor = page.locator(".monaco-editor[data-uri$='lathe.yaml']").first();
  await clickUntil(page, treeRow(page, /train.*never ran/).first(), editor, { timeoutMs: 30_000 });
  await waitFor(async () => /Ln 8, Col 3/.test(await page.locator(".part.statusbar").innerText()), {
    timeoutMs: 15_000,
    what: "the cursor on the train stage (Ln 8, Col 3)",
  });
  await s.shot("02-opened-at-stage");

  // 3. A new params entry below `- train.lr`: type the start of a key, Ctrl+Space, accept.
  await goToLine(page, 12);
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("- train.e");
  const suggestion = page
    .locator(".suggest-widget .monaco-list-row", { hasText: "train.epochs" })
    .first();
  await waitFor(
    async () => {
      await page.keyboard.press("Control+Space");
      return suggestion.isVisible({ timeout: 1_500 }).catch(() => false);
    },
    { timeoutMs: 60_000, intervalMs: 500, what: "the train.epochs completion" },
  );
  await s.shot("03-completion");
  await page.keyboard.press("Enter");
  await waitFor(async () => /- train\.epochs/.test(await editorText(page)), {
    timeoutMs: 10_000,
    what: "train.epochs inserted",
  });
  await s.shot("04-completion-accepted");

  // 4. An unknown key: a squiggle and a Problems entry; deleting the line clears both.
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("- train.bogus");
  await page.keyboard.press("Escape"); // close any suggest widget
  const squiggle = editor.locator(".squiggly-error");
  await squiggle.first().waitFor({ state: "visible", timeout: 30_000 });
  await page.keyboard.press("Control+Shift+M"); // the Problems panel
  const problem = page.locator(".markers-panel .monaco-list-row", {
    hasText: "param 'train.bogus' is not in params.yaml",
  });
  await problem.first().waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("05-diagnostic");

  await editor.click({ position: { x: 200, y: 10 } }).catch(() => {});
  await goToLine(page, 14);
  await page.keyboard.press("Control+Shift+K"); // delete the line
  await waitFor(async () => !/train\.bogus/.test(await editorText(page)), {
    timeoutMs: 10_000,
    what: "the bogus line deleted",
  });
  await waitFor(async () => (await squiggle.count()) === 0 && (await problem.count()) === 0, {
    timeoutMs: 30_000,
    what: "the diagnostic to disappear",
  });
  await s.shot("06-diagnostic-gone");

  await page.keyboard.press("Control+S");
  await waitFor(
    () =>
      /\n {6}- train\.lr\n {6}- train\.epochs\n {4}outs/.test(
        readFileSync(join(s.workspace, "lathe.yaml"), "utf8"),
      ),
    { timeoutMs: 15_000, what: "lathe.yaml saved with the completed key" },
  );

  // 5. Run Stage on train (inline action): prepare runs first, train shows running, both end up
  //    to date.
  await openViewContainer(page, "Lathe");
  const trainRow = treeRow(page, /train.*never ran/).first();
  await trainRow.waitFor({ state: "visible", timeout: 30_000 });
  await inlineAction(page, trainRow, "Run Stage", treeRow(page, /train.*running/));
  await treeRow(page, /train.*running/)
    .first()
    .waitFor({ state: "visible", timeout: 60_000 });
  await s.shot("07-running");
  await waitForToast(page, /Stages done: 2 ran, 0 up to date/, { timeoutMs: 90_000 });
  await treeRow(page, /train.*up to date/)
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await treeRow(page, /prepare.*up to date/)
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("08-up-to-date");

  // 6. A params change on disk turns train stale again, with the reason, without a click.
  const params = readFileSync(join(s.workspace, "params.yaml"), "utf8");
  writeFileSync(join(s.workspace, "params.yaml"), params.replace("epochs: 10", "epochs: 20"));
  await treeRow(page, /train.*param train\.epochs changed/)
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await treeRow(page, /prepare.*up to date/)
    .first()
    .waitFor({ state: "visible", timeout: 5_000 });
  await s.shot("09-stale-after-param-change");

  // 7. A failing stage: the toast names it, the row says failed with the exit code, and Show Log
  //    (context menu) opens its last run's log.
  writeFileSync(join(s.workspace, "train.js"), `console.error("diverged"); process.exit(3);`);
  const staleTrain = treeRow(page, /train.*changed/).first();
  await staleTrain.waitFor({ state: "visible", timeout: 30_000 });
  await inlineAction(
    page,
    staleTrain,
    "Run Stage",
    toast(page, /Lathe: running train|Stage 'train' failed/),
  );
  await waitForToast(page, /Stage 'train' failed \(exit 3\)/, { timeoutMs: 60_000 });
  const failedRow = treeRow(page, /train.*failed \(exit 3\)/).first();
  await failedRow.waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("10-failed");
  await contextMenu(page, failedRow, "Show Log of the Last Run");
  await page
    .locator(".monaco-editor .view-lines", { hasText: "diverged" })
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("11-stage-log");

  // 8. Cancel from the progress notification kills the running stage: the row says cancelled.
  writeFileSync(join(s.workspace, "train.js"), `setTimeout(() => {}, 120000);`);
  await openViewContainer(page, "Lathe");
  const rerun = treeRow(page, /train.*failed/).first(); // still failed: it has not run since
  await rerun.waitFor({ state: "visible", timeout: 30_000 });
  await inlineAction(page, rerun, "Run Stage", treeRow(page, /train.*running/));
  await treeRow(page, /train.*running/)
    .first()
    .waitFor({ state: "visible", timeout: 60_000 });
  const progress = await waitForToast(page, /Lathe: running train/, { timeoutMs: 30_000 });
  await progress.locator(".monaco-button", { hasText: "Cancel" }).first().click();
  await waitForToast(page, /Pipeline run cancelled/, { timeoutMs: 30_000 });
  await treeRow(page, /train.*cancelled/)
    .first()
    .waitFor({ state: "visible", timeout: 30_000 });
  await s.shot("12-cancelled");
}

async function goToLine(page, line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill(`:${line}`);
  await input.press("Enter");
  await input.waitFor({ state: "hidden", timeout: 10_000 }).catch(() => {});
}

/** The visible text of the lathe.yaml editor (Monaco renders spaces as non-breaking). */
async function editorText(page) {
  const text = await page
    .locator(".monaco-editor[data-uri$='lathe.yaml'] .view-lines")
    .first()
    .innerText();
  return text.replace(/\u00a0/g, " ");
}
