/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Error bodies are read field by field. */
/**
 * GET /api/v1/runs a page at a time (issue #3), as the Runs view asks for it: the top level of an
 * experiment (`parent=top`) by `limit` and `offset`, each page with its runs' children
 * (`children=include`); bad paging values are 400 naming the parameter.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RunSummary, SearchRunsResult } from "../../schemas/api";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
/** Top-level runs newest first, and the children of each. */
const tops: string[] = [];
const childrenOf = new Map<string, string[]>();
let orphan = "";
let experiment = "";

before(async () => {
  d = await trackingDaemon("lathe-runs-paging-");
  const made = await d.post(`${M}/experiments/create`, { name: "paged" });
  experiment = made.json.experiment_id as string;
  const create = async (name: string, startTime: number, parent?: string) => {
    const tags = parent ? [{ key: "mlflow.parentRunId", value: parent }] : [];
    const body = { experiment_id: experiment, run_name: name, start_time: startTime, tags };
    const r = await d.post(`${M}/runs/create`, body);
    assert.equal(r.status, 200, r.text);
    return r.json.run.info.run_id as string;
  };
  // Seven top-level runs; every other one has two children, started after it.
  for (let i = 0; i < 7; i++) {
    const id = await create(`top${i}`, 1000 * i);
    tops.unshift(id);
    const kids = i % 2 === 0 ? [await create(`kid${i}a`, 1000 * i + 1, id)] : [];
    if (i % 2 === 0) {
      kids.push(await create(`kid${i}b`, 1000 * i + 2, id));
    }
    childrenOf.set(id, kids);
  }
  // A parent deleted by MLflow's runs/delete (one run) leaves its child at the top level.
  const gone = await create("gone", 9000);
  orphan = await create("orphan", 9001, gone);
  assert.equal((await d.post(`${M}/runs/delete`, { run_id: gone })).status, 200);
  tops.unshift(orphan);
  childrenOf.set(orphan, []);
});

after(async () => {
  await d.close();
});

const page = async (offset: number, limit: number) => {
  const r = await d.get("/api/v1/runs", {
    experiment,
    parent: "top",
    children: "include",
    limit: String(limit),
    offset: String(offset),
  });
  assert.equal(r.status, 200, r.text);
  return r.json as RunSummary[];
};

test("pages of the top level cover every top-level run once, newest first, with their children", async () => {
  const seen: string[] = [];
  for (let offset = 0; ; offset += 3) {
    const runs = await page(offset, 3);
    const ids = new Set(runs.map((r) => r.id));
    const top = runs.filter((r) => r.parentId === null || !ids.has(r.parentId)).map((r) => r.id);
    if (top.length === 0) {
      assert.equal(runs.length, 0);
      break;
    }
    assert.ok(top.length <= 3);
    // Each page brings exactly its runs' children, and nothing else.
    const kids = runs.filter((r) => !top.includes(r.id)).map((r) => r.id);
    assert.deepEqual(kids.sort(), top.flatMap((id) => childrenOf.get(id)!).sort());
    seen.push(...top);
  }
  assert.deepEqual(seen, tops);
  assert.equal(seen[0], orphan, "a child whose parent is deleted is at the top level");
});

test("parent=top without children lists the top level only; limit and offset page any list", async () => {
  const all = (await d.get("/api/v1/runs", { experiment, parent: "top" })).json as RunSummary[];
  assert.deepEqual(
    all.map((r) => r.id),
    tops,
  );
  const none = (await d.get("/api/v1/runs", { experiment, parent: "none" })).json as RunSummary[];
  assert.equal(
    none.some((r) => r.id === orphan),
    false,
  );
  const everything = (await d.get("/api/v1/runs", { experiment })).json as RunSummary[];
  const second = (await d.get("/api/v1/runs", { experiment, limit: "4", offset: "4" }))
    .json as RunSummary[];
  assert.deepEqual(
    second.map((r) => r.id),
    everything.slice(4, 8).map((r) => r.id),
  );
  const past = await d.get("/api/v1/runs", { experiment, offset: "1000" });
  assert.deepEqual(past.json, []);
});

test("a filtered, sorted search pages with maxResults and pageToken, in its order", async () => {
  const request = { experimentIds: [experiment], filter: "attributes.run_name LIKE 'top%'" };
  const orderBy = ["attributes.start_time ASC"];
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const r = await d.post("/api/v1/runs/search", {
      ...request,
      orderBy,
      maxResults: 3,
      pageToken,
    });
    assert.equal(r.status, 200, r.text);
    const result = r.json as SearchRunsResult;
    assert.ok(result.runs.length <= 3);
    ids.push(...result.runs.map((run) => run.id));
    pageToken = result.nextPageToken ?? undefined;
  } while (pageToken);
  assert.deepEqual(ids, tops.filter((id) => id !== orphan).reverse());
});

test("bad paging values are 400 naming the parameter and the value", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ offset: "-1" }, /offset must be an integer of 0 or more, not '-1'/],
    [{ offset: "1.5" }, /offset .*'1\.5'/],
    [{ offset: "ten" }, /offset .*'ten'/],
    [{ offset: "" }, /offset .*''/],
    [{ offset: "99999999999999999999" }, /offset/],
    [{ limit: "0" }, /limit must be an integer from 1 to 10000/],
    [{ limit: "10001" }, /limit/],
    [{ children: "yes" }, /children must be 'include', not 'yes'/],
    [{ deleted: "all" }, /deleted must be 'include', not 'all'/],
  ];
  for (const [query, message] of cases) {
    const r = await d.get("/api/v1/runs", { experiment, ...query });
    assert.equal(r.status, 400, JSON.stringify(query));
    assert.equal(r.json.code, "LATHE_BAD_INPUT");
    assert.match(r.json.message as string, message);
  }
});
