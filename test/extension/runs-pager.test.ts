/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   MLflow replies are read field by field. */
/**
 * The Runs view's paging (extension/src/runs/runsPager.ts) against a real daemon over HTTP: pages
 * of the top level with their stage runs, "Load more…" fetching only the next page, a refresh
 * keeping the pages shown, and a filter or sort paged through runs/search in its order.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RunsPager, type DaemonCall } from "../../extension/src/runs/runsPager";
import { M, trackingDaemon, type TrackingDaemon } from "../daemon/tracking-helpers";

let d: TrackingDaemon;
let experiment = "";
/** Top-level run names newest first. */
const topNames: string[] = [];

async function create(name: string, startTime: number, parent?: string): Promise<string> {
  const tags = parent ? [{ key: "mlflow.parentRunId", value: parent }] : [];
  const body = { experiment_id: experiment, run_name: name, start_time: startTime, tags };
  const r = await d.post(`${M}/runs/create`, body);
  assert.equal(r.status, 200, r.text);
  return r.json.run.info.run_id as string;
}

before(async () => {
  d = await trackingDaemon("lathe-runs-pager-");
  const made = await d.post(`${M}/experiments/create`, { name: "pager" });
  experiment = made.json.experiment_id as string;
  // Seven repros, each with two stage runs started after it.
  for (let i = 0; i < 7; i++) {
    const id = await create(`repro${i}`, 1000 * i);
    await create(`prepare${i}`, 1000 * i + 1, id);
    await create(`train${i}`, 1000 * i + 2, id);
    topNames.unshift(`repro${i}`);
  }
});

after(async () => {
  await d.close();
});

/** A pager of 3 a page, and the paths it asked for. */
function pager() {
  const paths: string[] = [];
  const call: DaemonCall = (method, path, body) => {
    paths.push(`${method} ${path}`);
    return d.daemon.client.call(method, path, body);
  };
  return { p: new RunsPager(call, () => 3), paths };
}

test("a page of top-level runs with their stage runs; Load more fetches the next page only", async () => {
  const { p, paths } = pager();
  const first = await p.runsOf(experiment);
  assert.deepEqual(
    first.top.map((t) => t.run.name),
    topNames.slice(0, 3),
  );
  assert.equal(first.more, true);
  // Stage runs under their repro, in the order they ran.
  assert.deepEqual(
    first.top[0]!.children.map((c) => c.name),
    ["prepare6", "train6"],
  );
  // Asking again is answered from the pages loaded.
  await p.runsOf(experiment);
  assert.equal(paths.length, 1);

  p.loadMore(experiment);
  const second = await p.runsOf(experiment);
  assert.deepEqual(
    second.top.map((t) => t.run.name),
    topNames.slice(0, 6),
  );
  assert.equal(paths.length, 2);
  assert.match(paths[1]!, /offset=3/);
  p.loadMore(experiment);
  const last = await p.runsOf(experiment);
  assert.deepEqual(
    last.top.map((t) => t.run.name),
    topNames,
  );
  assert.equal(last.more, false);
  assert.ok(last.top.every((t) => t.children.length === 2));
  // With no more pages, Load more asks for nothing.
  p.loadMore(experiment);
  await p.runsOf(experiment);
  assert.equal(paths.length, 3);
});

test("after the runs change the pages shown are loaded again; a new query starts at one page", async () => {
  const { p } = pager();
  await p.runsOf(experiment);
  p.loadMore(experiment);
  assert.equal((await p.runsOf(experiment)).top.length, 6);

  const fresh = await create("repro-new", 50_000);
  p.invalidate();
  const again = await p.runsOf(experiment);
  assert.equal(again.top.length, 6);
  assert.equal(again.top[0]!.run.id, fresh);
  assert.equal(again.more, true);

  p.clear();
  assert.equal((await p.runsOf(experiment)).top.length, 3);
  assert.equal((await d.call("DELETE", `/api/v1/runs/${fresh}`)).status, 200);
});

test("a sort pages through runs/search in its order, and stage runs nest once their repro is loaded", async () => {
  const { p, paths } = pager();
  const search = { orderBy: ["attributes.start_time ASC"] };
  const first = await p.runsOf(experiment, search);
  // Oldest first: repro0, then its two stage runs on the same page.
  assert.deepEqual(
    first.top.map((t) => t.run.name),
    ["repro0"],
  );
  assert.deepEqual(
    first.top[0]!.children.map((c) => c.name),
    ["prepare0", "train0"],
  );
  assert.equal(first.more, true);
  p.loadMore(experiment);
  const second = await p.runsOf(experiment, search);
  assert.deepEqual(
    second.top.map((t) => t.run.name),
    ["repro0", "repro1"],
  );
  assert.match(paths[1]!, /^POST \/api\/v1\/runs\/search$/);

  // A filter on names: only repros match, three a page, in the sort's order.
  const filtered = { filter: "attributes.run_name LIKE 'repro%'", orderBy: search.orderBy };
  const names: string[] = [];
  let listing = await p.runsOf(experiment, filtered);
  assert.equal(listing.top.length, 3, "a new query starts again at one page");
  while (listing.more) {
    p.loadMore(experiment);
    listing = await p.runsOf(experiment, filtered);
  }
  names.push(...listing.top.map((t) => t.run.name));
  assert.deepEqual(names, [...topNames].reverse());
});

test("a refused filter rejects, naming it, and the next query works", async () => {
  const { p } = pager();
  await assert.rejects(p.runsOf(experiment, { filter: "metrics.acc >" }), /filter/);
  assert.equal((await p.runsOf(experiment)).top.length, 3);
});

test("Open Run: pages load until the run's repro is among them, and topOf finds a stage run's repro", async () => {
  const { p, paths } = pager();
  const listed = await p.runsOf(experiment);
  assert.equal(p.topOf(experiment, listed.top[0]!.children[0]!.id)?.run.name, topNames[0]);
  // repro0 is the oldest: the seventh run, on the third page of three.
  const oldest = (await p.runsOf(experiment)).top.length;
  assert.equal(oldest, 3);
  const all = await d.daemon.client.call<{ id: string; name: string }[]>(
    "GET",
    `/api/v1/runs?experiment=${experiment}`,
  );
  const repro0 = all.find((r) => r.name === "repro0");
  const train0 = all.find((r) => r.name === "train0");
  assert.ok(repro0 && train0);
  assert.equal(p.topOf(experiment, train0.id), undefined, "not loaded yet");
  paths.length = 0;
  const found = await p.loadUntil(experiment, repro0.id, undefined, 20);
  assert.equal(found?.run.name, "repro0");
  assert.equal(paths.length, 2, `two more pages, no more: ${paths.join(", ")}`);
  assert.equal(p.topOf(experiment, train0.id)?.run.id, repro0.id);
  assert.equal((await p.runsOf(experiment)).more, false, "the view shows the pages loaded");

  // At most maxPages: a fresh pager stops at two pages and says the run is not there.
  const limited = pager().p;
  assert.equal(await limited.loadUntil(experiment, repro0.id, undefined, 2), undefined);
  // Filtered out: the search's pages end without it.
  const filtered = pager().p;
  const search = { filter: "attributes.run_name = 'repro6'" };
  assert.equal(await filtered.loadUntil(experiment, repro0.id, search, 20), undefined);
});
