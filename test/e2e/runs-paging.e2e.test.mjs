/**
 * The Runs view pages an experiment's runs in a real editor (issue #3): with
 * `lathe.runs.pageSize` at 10, twelve runs show as ten and a "Load more…" row, which adds the
 * other two; a new run after that shows with all of them (a refresh keeps the pages shown).
 *
 * Needs `bash scripts/e2e-setup.sh` and a .vsix (`node scripts/package.mjs`); `npm run test:e2e`
 * does all of it. Screenshots: test-results/e2e/runs-paging/.
 */
import { test } from "node:test";
import {
  clickUntil,
  collapseViews,
  daemonApi,
  launch,
  openViewContainer,
  treeRow,
  waitFor,
  walk,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 240_000;
const FILES = {
  "lathe.yaml": 'stages:\n  noop:\n    cmd: node -e ""\n',
};

test(
  "runs paging: ten of twelve runs, then Load more… adds the rest",
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = await launch({
      name: "runs-paging",
      workspaceFiles: FILES,
      settings: { "lathe.runs.pageSize": 10 },
    });
    await walk(s, walkThrough, {
      timeoutMs: TEST_TIMEOUT_MS - 30_000,
      what: "the paging walk-through",
    });
  },
);

async function walkThrough(s) {
  const { page } = s;
  await openViewContainer(page, "Lathe");
  const call = daemonApi(await s.daemonInfo({ timeoutMs: 60_000 }));
  await collapseViews(page, ["Pipelines", "Models", "Deployments"]);
  const started = Date.now() - 100_000;
  for (let i = 0; i < 12; i++) {
    const name = `sweep-${String(i).padStart(2, "0")}`;
    await call("POST", "/api/2.0/mlflow/runs/create", { run_name: name, start_time: started + i });
  }
  const sweeps = () => treeRow(page, /^\s*sweep-\d\d/, { view: "Runs" }).count();
  const more = treeRow(page, /Load more…/, { view: "Runs" });
  await waitFor(async () => (await sweeps()) === 10 && (await more.count()) === 1, {
    timeoutMs: 30_000,
    what: "ten runs and a Load more… row",
  });
  // The newest ten: sweep-02 to sweep-11.
  await treeRow(page, /^\s*sweep-11/, { view: "Runs" })
    .first()
    .waitFor({ timeout: 5_000 });
  await s.shot("01-first-page");

  await clickUntil(page, more.first(), treeRow(page, /^\s*sweep-00/, { view: "Runs" }), {
    timeoutMs: 20_000,
  });
  await waitFor(async () => (await sweeps()) === 12 && (await more.count()) === 0, {
    timeoutMs: 20_000,
    what: "all twelve runs and no Load more… row",
  });
  await treeRow(page, /^\s*sweep-00/, { view: "Runs" })
    .first()
    .waitFor({ timeout: 5_000 });
  await s.shot("02-loaded-more");

  // A new run refreshes the view: both pages are loaded again, so all thirteen show.
  await call("POST", "/api/2.0/mlflow/runs/create", { run_name: "sweep-12" });
  await waitFor(async () => (await sweeps()) === 13 && (await more.count()) === 0, {
    timeoutMs: 20_000,
    what: "two pages (all thirteen runs) after the refresh, not folded back to one",
  });
  await treeRow(page, /^\s*sweep-12/, { view: "Runs" })
    .first()
    .waitFor({ timeout: 5_000 });
  await s.shot("03-refreshed");
}
