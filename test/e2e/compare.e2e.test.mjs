/**
 * The Runs view and Compare Runs in a real editor (issue #3): two runs logged through the daemon's
 * MLflow and batch APIs appear in the Runs view; clicking one shows its params; filtering from the
 * view title narrows the tree; selecting both and "Compare Runs" opens the webview with one chart
 * per metric and both runs' curves; points logged while it is open make the curves grow; the
 * experiment's own headline metric, chosen from its context menu, describes its runs.
 *
 * Needs `bash scripts/e2e-setup.sh` and a .vsix (`node scripts/package.mjs`); `npm run test:e2e`
 * does all of it. Screenshots of each step: test-results/e2e/compare/.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  expandRow,
  launch,
  openViewContainer,
  runCommand,
  treeRow,
  contextMenu,
  collapseViews,
  waitFor,
  waitForToast,
  webviewFrame,
  walk,
  daemonApi,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 300_000;
const LATHE_YAML = `# compare e2e: the runs are logged through the API, not by a stage
stages:
  hello:
    cmd: node -e "require('fs').writeFileSync('hello.txt', 'hi')"
    outs: [hello.txt]
`;

test(
  "runs: click a run, see its params; filter; compare two runs, see two curves grow",
  {
    timeout: TEST_TIMEOUT_MS,
  },
  async () => {
    const s = await launch({
      name: "compare",
      workspaceFiles: { "lathe.yaml": LATHE_YAML },
      // Smoothing off: one curve per run, so the chart's curve count is the run count.
      // 100 points per curve: the 500-step loss arrives downsampled, so a zoom has finer points.
      settings: { "lathe.compare.smoothing": 0, "lathe.compare.points": 100 },
    });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the compare walk-through",
    });
  },
);

async function walkThrough(s) {
  const { page } = s;
  await openViewContainer(page, "Lathe");
  const call = daemonApi(await s.daemonInfo({ timeoutMs: 60_000 }));
  await page
    .locator(".welcome-view-content", { hasText: "No runs yet" })
    .first()
    .waitFor({ state: "visible", timeout: 60_000 });
  // The Runs view needs its height: the test expands runs while a live one keeps growing.
  await collapseViews(page, ["Pipelines", "Models", "Deployments"]);

  // 1. Two runs of one experiment, as training code using MLflow would log them.
  const { experiment_id } = await call("POST", "/api/2.0/mlflow/experiments/create", {
    name: "sweep",
  });
  const ids = {};
  const started = Date.now() - 60_000;
  for (const [name, lr] of [
    ["fast-lr", "0.1"],
    ["slow-lr", "0.01"],
  ]) {
    const run = await call("POST", "/api/2.0/mlflow/runs/create", {
      experiment_id,
      run_name: name,
    });
    ids[name] = run.run.info.run_id;
    const rate = Number(lr) * 10;
    await call("POST", `/api/v1/runs/${ids[name]}/batch`, {
      params: { lr, epochs: "50" },
      metrics: [
        ...Array.from({ length: 500 }, (_, step) => ({
          key: "loss",
          // slow-lr's loss is NaN once (step 250): a gap the chart marks and its note counts.
          value:
            name === "slow-lr" && step === 250
              ? "NaN"
              : Math.exp(-rate * step * 0.01) + 0.05 + (step % 7 === 0 ? 0.02 : 0),
          step,
          // A step every 100 ms of wall time, for the time axis.
          timestamp: started + step * 100,
        })),
        ...Array.from({ length: 50 }, (_, step) => ({
          key: "accuracy",
          value: 1 - Math.exp(-rate * step * 0.1) * 0.5,
          step,
          timestamp: started + step * 1000,
        })),
      ],
    });
  }
  // fast-lr stays RUNNING; slow-lr finishes.
  await call("POST", "/api/2.0/mlflow/runs/update", {
    run_id: ids["slow-lr"],
    status: "FINISHED",
    end_time: Date.now(),
  });

  // 2. The Runs view shows both (live, from the event stream), with the headline metric.
  const fast = treeRow(page, /fast-lr.*accuracy/).first();
  const slow = treeRow(page, /slow-lr.*accuracy/).first();
  await fast.waitFor({ state: "visible", timeout: 30_000 });
  await slow.waitFor({ state: "visible", timeout: 10_000 });
  await page.locator(".monaco-list-row .codicon-loading").first().waitFor({ timeout: 10_000 });

  // 3. Click a run: its Params and Metrics groups open, with lr = 0.1.
  await expandRow(page, fast);
  await treeRow(page, /^\s*lr = 0\.1\s*$/)
    .first()
    .waitFor({ state: "visible", timeout: 15_000 });
  await treeRow(page, /^\s*epochs = 50\s*$/)
    .first()
    .waitFor({ state: "visible", timeout: 5_000 });
  await s.shot("01-run-params");
  await fast.click(); // collapse again, so both runs stay in view

  // 4. Filter from the view title: only the slow run matches; the view says what is applied.
  await runCommand(page, "Lathe: Filter Runs…");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill("params.lr = '0.01'");
  await input.press("Enter");
  await page
    .locator(".pane-header .description", { hasText: "filter: params.lr = '0.01'" })
    .first()
    .waitFor({ state: "visible", timeout: 15_000 })
    .catch(async () => {
      // With a single view in the container the header is hidden; the message then shows it.
      await page.locator(".pane-body", { hasText: "1 run" }).first().waitFor({ timeout: 10_000 });
    });
  await waitFor(async () => (await treeRow(page, /fast-lr/).count()) === 0, {
    timeoutMs: 15_000,
    what: "the filtered-out run to leave the tree",
  });
  await slow.waitFor({ state: "visible", timeout: 10_000 });
  await s.shot("02-filtered");
  await runCommand(page, "Lathe: Clear Runs Filter and Sort");
  await fast.waitFor({ state: "visible", timeout: 15_000 });

  // A filter the daemon cannot parse: its message in a toast, and the view stays unfiltered.
  await runCommand(page, "Lathe: Filter Runs…");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill("metrics.accuracy >> 1");
  await input.press("Enter");
  await waitForToast(page, /Filtering runs failed: .*accuracy|Filtering runs failed: .*>>/, {
    timeoutMs: 15_000,
  });
  await s.shot("02b-bad-filter");
  await fast.waitFor({ state: "visible", timeout: 15_000 });
  await slow.waitFor({ state: "visible", timeout: 5_000 });

  // 5. Select both runs (click, ctrl+click) and Compare from the context menu.
  // The running run re-renders its row every second, which can swallow a click: the selection is
  // made again until both rows show selected, and the menu is tried again until two runs open.
  const selected = (row) => row.evaluate((el) => el.classList.contains("selected"));
  const compareTab = page.locator(".tab", { hasText: "Compare 2 runs" });
  await contextMenu(page, slow, "Compare Runs", {
    select: () =>
      waitFor(
        async () => {
          if (!(await selected(fast))) await fast.click();
          if (!(await selected(slow))) await slow.click({ modifiers: ["Control"] });
          return (await selected(fast)) && (await selected(slow));
        },
        { timeoutMs: 15_000, intervalMs: 300, what: "both runs selected" },
      ),
    ran: compareTab,
  });
  await compareTab.first().waitFor({ timeout: 15_000 });
  const view = webviewFrame(page);
  const loss = view.locator('.chart[data-metric="loss"]');
  await loss.waitFor({ state: "visible", timeout: 30_000 });
  await waitFor(async () => (await loss.getAttribute("data-curves")) === "2", {
    timeoutMs: 20_000,
    what: "two curves in the loss chart",
  });
  assert.equal(
    await view.locator('.chart[data-metric="accuracy"]').getAttribute("data-curves"),
    "2",
  );
  assert.equal(await loss.getAttribute("data-max-step"), "499");
  // uPlot's legend names both runs; the canvas is drawn.
  const legend = await loss.locator(".u-legend").innerText();
  assert.match(legend, /fast-lr/);
  assert.match(legend, /slow-lr/);
  assert.ok((await loss.locator("canvas").count()) >= 1);
  // The NaN point is not drawn: marked on the chart, and counted under it.
  assert.equal(
    await loss.locator(".chart-not-drawn").innerText(),
    "◆ 1 NaN point not drawn (slow-lr)",
  );
  assert.equal(await loss.getAttribute("data-marks"), "1");
  // The table shows both runs' params and each metric's last, min, max and points; "Only
  // differences" hides epochs, accuracy's min and points, and loss's max (the same in both).
  const table = view.locator("section.table");
  await waitFor(async () => Number(await table.getAttribute("data-rows")) === 10, {
    timeoutMs: 10_000,
    what: "10 table rows (lr, epochs, accuracy and loss: last, min, max, points)",
  });
  assert.match(await table.innerText(), /500 \(1 NaN\)/);
  await s.shot("03-compare");
  await table.locator("vscode-checkbox").click();
  await waitFor(async () => Number(await table.getAttribute("data-rows")) === 6, {
    timeoutMs: 10_000,
    what: "6 rows that differ",
  });
  assert.equal(await view.locator(".parallel svg polyline").count(), 2, "a line per run");

  // 6. The running run logs 10 more steps: its curves grow without reopening the view.
  await call("POST", `/api/v1/runs/${ids["fast-lr"]}/batch`, {
    metrics: Array.from({ length: 10 }, (_, i) => ({
      key: "loss",
      value: 0.05,
      step: 500 + i,
      timestamp: started + (500 + i) * 100,
    })),
  });
  await waitFor(async () => (await loss.getAttribute("data-max-step")) === "509", {
    timeoutMs: 20_000,
    what: "the loss chart to grow to step 509",
  });
  await loss.scrollIntoViewIfNeeded();
  await page.mouse.move(5, 400); // no tooltip over the shot
  await s.shot("04-grown");

  // 7. Drag across a tenth of the loss chart: the view asks for that step range and gets every
  //    point in it (about 50 per run), where the whole curve had 100 points for 510 steps.
  const over = loss.locator(".u-over");
  const box = await over.boundingBox();
  assert.ok(box, "the loss chart's plot area has a box");
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.2, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.25, y, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.3, y, { steps: 5 });
  await page.mouse.up();
  await waitFor(async () => Number(await loss.getAttribute("data-zoom-points")) >= 80, {
    timeoutMs: 20_000,
    what: "the zoomed range's finer points",
  });
  const [from, to] = (await loss.getAttribute("data-zoom")).split("..").map(Number);
  assert.ok(from > 50 && to < 250 && to - from >= 30, `zoomed to steps ${from}..${to}`);
  await page.mouse.move(5, 400);
  await s.shot("05-zoomed");
  // Double-click zooms back out to the whole curve.
  await page.mouse.dblclick(box.x + box.width / 2, y);
  await waitFor(async () => (await loss.getAttribute("data-zoom")) === null, {
    timeoutMs: 10_000,
    what: "the zoom to reset",
  });

  // 7b. The same zoom from the keyboard: a focused chart zooms in twice with + (the middle
  //     quarter, fetched finer as a drag's range is), pans right with an arrow, resets with 0.
  await loss.focus();
  await loss.press("+");
  await loss.press("+");
  const zoomOf = async () => (await loss.getAttribute("data-zoom"))?.split("..").map(Number);
  await waitFor(
    async () => {
      const z = await zoomOf();
      const held = Number(await loss.getAttribute("data-zoom-points"));
      return z !== undefined && z[0] > 150 && z[1] < 360 && held >= 80;
    },
    { timeoutMs: 20_000, what: "the keyboard zoom to the middle quarter, with finer points" },
  );
  const [keyFrom] = await zoomOf();
  await loss.press("ArrowRight");
  await waitFor(async () => ((await zoomOf())?.[0] ?? 0) > keyFrom, {
    timeoutMs: 10_000,
    what: "ArrowRight to pan the zoomed window right",
  });
  await s.shot("05b-keyboard-zoom");
  await loss.press("0");
  await waitFor(async () => (await loss.getAttribute("data-zoom")) === null, {
    timeoutMs: 10_000,
    what: "0 to reset the keyboard zoom",
  });

  // 8. Smoothing from the keyboard (the slider takes arrow keys): each run gets a smoothed curve
  //    over its faint raw one; then a log scale.
  const smoothing = view.locator('input[type="range"][aria-label="Smoothing"]');
  await smoothing.focus();
  for (let i = 0; i < 60; i++) {
    await smoothing.press("ArrowRight");
  }
  await waitFor(async () => (await loss.getAttribute("data-curves")) === "4", {
    timeoutMs: 10_000,
    what: "raw and smoothed curves for both runs",
  });
  await view.locator("vscode-checkbox", { hasText: "Log scale" }).click();
  await page.mouse.move(5, 400);
  await page.waitForTimeout(500);
  await s.shot("06-smoothed-log");
  // 9. Wall time on the x axis, from the dropdown.
  await view.locator('vscode-dropdown[aria-label="X axis"]').click();
  await view.locator("vscode-option", { hasText: "Wall time" }).click();
  await waitFor(async () => (await loss.getAttribute("data-x")) === "time", {
    timeoutMs: 10_000,
    what: "the time axis",
  });
  assert.equal(await loss.getAttribute("data-curves"), "4");

  // 10. A dark theme: the page follows it (CSS variables, and the canvas re-reads them).
  await runCommand(page, "Preferences: Color Theme");
  const themeInput = page.locator(".quick-input-widget input");
  await themeInput.fill("Dark Modern");
  await page
    .locator(".quick-input-widget .monaco-list-row.focused", { hasText: "Dark Modern" })
    .first()
    .waitFor({ timeout: 10_000 });
  await themeInput.press("Enter");
  await waitFor(async () => /vscode-dark/.test(await view.locator("body").getAttribute("class")), {
    timeoutMs: 20_000,
    what: "the webview to switch to the dark theme",
  });
  await page.waitForTimeout(500);
  await s.shot("07-time-axis-dark");

  // Nothing of the view was blocked by its content security policy.
  assert.equal(await view.locator("#app").getAttribute("data-csp-violations"), null);
  // And the policy is live: an inline script is refused (no 'unsafe-inline').
  await view.locator("#app").evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "document.body.dataset.inlineRan = 'yes'";
    document.body.append(script);
  });
  await waitFor(
    async () => (await view.locator("#app").getAttribute("data-csp-violations")) === "1",
    {
      timeoutMs: 10_000,
      what: "the inline script to be refused",
    },
  );
  assert.equal(await view.locator("body").getAttribute("data-inline-ran"), null);

  // 11. The experiment's own headline metric, from its context menu: its runs show loss.
  const lossChoice = page.locator(".quick-input-widget .monaco-list-row", { hasText: "loss" });
  await contextMenu(
    page,
    treeRow(page, /^\s*sweep/, { view: "Runs" }).first(),
    "Choose Headline Metric…",
    {
      ran: lossChoice,
    },
  );
  assert.match(
    await page.locator(".quick-input-widget .monaco-list-row.focused").first().innerText(),
    /accuracy/,
    "the pick opens on the current metric",
  );
  await lossChoice.first().click();
  await treeRow(page, /fast-lr.*loss/)
    .first()
    .waitFor({ state: "visible", timeout: 15_000 });
  await treeRow(page, /slow-lr.*loss/)
    .first()
    .waitFor({ state: "visible", timeout: 5_000 });
  await s.shot("08-headline-metric");
}
