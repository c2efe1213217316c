/**
 * The workbench side of the editor tests: waiting, and finding and driving what VS Code shows
 * (commands, context menus, inline actions, tree rows, toasts, the status bar, view containers,
 * webviews). harness.mjs launches the editor and re-exports all of this.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_WAIT = 30_000;

export function withTimeout(promise, ms, what = "operation") {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function waitFor(
  fn,
  { timeoutMs = DEFAULT_WAIT, intervalMs = 100, what = "condition" } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function textMatcher(text) {
  return typeof text === "string" ? new RegExp(escapeRegExp(text)) : text;
}

/** Runs a command from the F1 palette by its exact title, e.g. "Lathe: Reproduce Pipeline". */
export async function runCommand(page, title, { timeoutMs = DEFAULT_WAIT } = {}) {
  const input = page.locator(".quick-input-widget input");
  await withTimeout(
    (async () => {
      await page.keyboard.press("Escape");
      await page.keyboard.press("F1");
      await input.waitFor({ state: "visible", timeout: timeoutMs });
      await input.fill(`>${title}`);
      // Click the row whose label is exactly the title: Enter would run the pre-selected row,
      // which can be another (recently used) command.
      const row = page
        .locator(".quick-input-widget .monaco-list-row")
        .filter({
          has: page.locator(".label-name", {
            hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`),
          }),
        })
        .first();
      await row.waitFor({ state: "visible", timeout: timeoutMs });
      await row.click({ timeout: timeoutMs });
      await input.waitFor({ state: "hidden", timeout: timeoutMs }).catch(() => {});
    })(),
    timeoutMs + 5_000,
    `running command "${title}"`,
  );
}

/**
 * Right-clicks `row` and runs the context-menu item labelled `label`. VS Code ignores a click that
 * lands while its menu is still opening (the menu re-renders under the pointer), so the menu is
 * reopened and the item clicked again until the menu closes, up to three times.
 */
export async function contextMenu(
  page,
  row,
  label,
  { timeoutMs = DEFAULT_WAIT, select, ran } = {},
) {
  const menu = page.locator(".context-view .monaco-menu");
  const item = menu.locator(".action-item", { hasText: textMatcher(label) }).first();
  for (let attempt = 1; ; attempt++) {
    // `select` (re)makes a multi-selection first: a right-click that landed on another row
    // replaced it.
    await select?.();
    await row.click({ button: "right", timeout: timeoutMs });
    // A live tree can re-render between finding the row and the click, so the menu that opens
    // may be another row's: without the item, close it and right-click again.
    const opened = await item
      .waitFor({ state: "visible", timeout: attempt === 3 ? timeoutMs : 3_000 })
      .then(() => true)
      .catch(() => false);
    if (opened) {
      await item.hover({ timeout: timeoutMs });
      await page.waitForTimeout(200);
      await item.click({ timeout: timeoutMs });
      const closed = await menu
        .waitFor({ state: "hidden", timeout: 3_000 })
        .then(() => true)
        .catch(() => false);
      // A re-render also closes the menu, without running the item: `ran` (a Locator such as
      // the dialog or quick input the command opens) tells the two apart.
      const took =
        closed &&
        (!ran ||
          (await ran
            .first()
            .waitFor({ state: "visible", timeout: attempt === 3 ? timeoutMs : 5_000 })
            .then(() => true)
            .catch(() => false)));
      if (took) {
        return;
      }
    }
    if (attempt === 3) {
      throw new Error(`The context menu item "${label}" did not run after ${attempt} tries.`);
    }
    await page.keyboard.press("Escape");
  }
}

/**
 * Expands a collapsed tree row with a click, and clicks again when a re-render of the live tree
 * swallowed the click (the row is still collapsed a moment later); up to three times.
 */
export async function expandRow(page, row, { timeoutMs = DEFAULT_WAIT } = {}) {
  for (let attempt = 1; ; attempt++) {
    await row.waitFor({ state: "visible", timeout: timeoutMs });
    if ((await row.getAttribute("aria-expanded")) === "true") {
      return;
    }
    await row.click({ timeout: timeoutMs });
    const expanded = await waitFor(
      async () => ((await row.getAttribute("aria-expanded")) === "true" ? true : undefined),
      { timeoutMs: attempt === 3 ? timeoutMs : 2_000, what: "the row to expand" },
    )
      .then(() => true)
      .catch(() => false);
    if (expanded) {
      return;
    }
    if (attempt === 3) {
      throw new Error("The tree row did not expand after 3 clicks.");
    }
  }
}

/**
 * Clicks `target` (a tree row, typically) and waits for `ran`, a Locator that shows the click
 * took effect (the editor tab it opens, the rows it adds). A live tree can re-render between
 * finding the row and the click, which then lands on nothing; so it clicks again, up to three
 * times. `before` runs ahead of each click (a hover that shows an inline action); `what` names
 * the click in the error.
 */
export async function clickUntil(
  page,
  target,
  ran,
  { timeoutMs = DEFAULT_WAIT, settleMs = 5_000, before, what = "A click" } = {},
) {
  for (let attempt = 1; ; attempt++) {
    await before?.();
    if (attempt > 1 && !(await target.isVisible())) {
      // The click took and its effect replaced the target (a Load more… row): just slow.
      await ran.first().waitFor({ state: "visible", timeout: timeoutMs });
      return;
    }
    await target.click({ timeout: timeoutMs });
    const took = await ran
      .first()
      .waitFor({ state: "visible", timeout: attempt === 3 ? timeoutMs : settleMs })
      .then(() => true)
      .catch(() => false);
    if (took) {
      return;
    }
    if (attempt === 3) {
      throw new Error(`${what} showed no effect after ${attempt} tries.`);
    }
  }
}

/**
 * Hovers `row` and clicks its inline action `label`, then waits for `ran` (a Locator that shows
 * the action took effect, such as its progress toast). A live tree can re-render the row between
 * the hover and the click, so the click lands on the row itself; then it is tried again.
 */
export async function inlineAction(page, row, label, ran, { timeoutMs = DEFAULT_WAIT } = {}) {
  const action = row.locator(`.actions .action-label[aria-label="${label.replace(/"/g, '\\"')}"]`);
  await clickUntil(page, action, ran, {
    timeoutMs,
    settleMs: 8_000,
    before: () => row.hover({ timeout: timeoutMs }),
    what: `The inline action "${label}"`,
  });
}

/**
 * Collapses the named views of the open container (by their pane header), so that the view a
 * test works in has the height to show what it expands: VS Code renders only visible rows.
 */
export async function collapseViews(page, titles) {
  for (const title of titles) {
    const header = page
      .locator(".pane-header", {
        has: page.locator(".title", {
          hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`, "i"),
        }),
      })
      .first();
    if ((await header.count()) > 0 && (await header.getAttribute("aria-expanded")) === "true") {
      await header.click();
    }
  }
}

/**
 * Runs a test's walk-through in a launched session under its own timeout (node:test's does not
 * stop a hung await); on failure saves a 99-failure screenshot and prints the Lathe log; always
 * closes the session.
 */
export async function walk(s, fn, { timeoutMs, what }) {
  try {
    await withTimeout(fn(s), timeoutMs, what);
  } catch (err) {
    await s.shot("99-failure").catch(() => {});
    console.error(s.logs(/Lathe/).slice(-6000));
    console.error(workspaceLogs(s.workspace).slice(-6000));
    throw err;
  } finally {
    await s.close();
  }
}

/** The tail of each log the daemon and its serving workers wrote in `<workspace>/.lathe/logs`. */
function workspaceLogs(workspace) {
  const dir = join(workspace, ".lathe", "logs");
  if (!existsSync(dir)) {
    return `(no ${dir})`;
  }
  return readdirSync(dir)
    .map((f) => `==> .lathe/logs/${f} <==\n${readFileSync(join(dir, f), "utf8").slice(-3000)}`)
    .join("\n");
}

/** A tiny JSON client of the daemon named by daemon.json's `info`; a non-2xx answer fails. */
export function daemonApi(info) {
  return async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${info.port}${path}`, {
      method,
      headers: { Authorization: `Bearer ${info.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) {
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    }
    return json;
  };
}

/** Rows of tree and list views inside view panes (sidebar, panel, auxiliary bar). */
export function treeRow(page, text, { view } = {}) {
  // With `view` ("Runs", "Pipelines"…), only that view's rows: several views show a "train".
  const scope = view
    ? page.locator(".pane", {
        has: page.locator(".pane-header .title", {
          hasText: new RegExp(`^\\s*${escapeRegExp(view)}\\s*$`, "i"),
        }),
      })
    : page;
  return scope.locator(".pane-body .monaco-list-row").filter({ hasText: textMatcher(text) });
}

/** The text of every status bar item, one per line. */
export async function statusBarText(page, { timeoutMs = DEFAULT_WAIT } = {}) {
  await page.locator(".part.statusbar").waitFor({ state: "visible", timeout: timeoutMs });
  const items = await page
    .locator(".part.statusbar .statusbar-item")
    .evaluateAll((els) =>
      els
        .map((el) => (el.textContent ?? "").trim() || el.getAttribute("aria-label") || "")
        .filter(Boolean),
    );
  return items.join("\n");
}

/** Waits for a notification toast whose text matches; returns its Locator. */
export async function waitForToast(page, text, { timeoutMs = DEFAULT_WAIT } = {}) {
  const found = toast(page, text).first();
  await found.waitFor({ state: "visible", timeout: timeoutMs });
  return found;
}

/**
 * Waits for a toast matching `success`, and fails at once, quoting it, when a toast matching
 * `failure` shows first (a command's error message), instead of waiting out the timeout.
 */
export async function waitForOutcome(page, success, failure, { timeoutMs = DEFAULT_WAIT } = {}) {
  const good = toast(page, success).first();
  const bad = toast(page, failure).first();
  await good.or(bad).waitFor({ state: "visible", timeout: timeoutMs });
  if (!(await good.isVisible()) && (await bad.isVisible())) {
    throw new Error(`Expected a toast matching ${success}, got: ${await bad.textContent()}`);
  }
  return good;
}

/** The notification toasts whose text matches (a Locator; it may match none yet). */
export function toast(page, text) {
  return page
    .locator(".notifications-toasts .notification-toast")
    .filter({ hasText: textMatcher(text) });
}

/** The activity-bar icon of a view container, by its title (e.g. "Lathe"). */
export function activityBarItem(page, title) {
  return page
    .locator(`.part.activitybar .action-item a[aria-label^="${title.replace(/"/g, '\\"')}"]`)
    .first();
}

/** Opens a view container by clicking its activity-bar icon (does nothing if already open). */
export async function openViewContainer(page, title, { timeoutMs = DEFAULT_WAIT } = {}) {
  const item = activityBarItem(page, title);
  await item.waitFor({ state: "visible", timeout: timeoutMs });
  const checked = await item
    .locator("xpath=..")
    .getAttribute("aria-checked")
    .catch(() => null);
  const selected = await item.evaluate(
    (a) => a.closest(".action-item")?.classList.contains("checked") ?? false,
  );
  if (checked !== "true" && !selected) await item.click({ timeout: timeoutMs });
}

/** The content of the active webview (webviews are nested iframes). */
export function webviewFrame(page) {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}
