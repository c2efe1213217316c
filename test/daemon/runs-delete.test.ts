/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Error bodies are read field by field. */
/**
 * Deleting a repro run over the native API takes its stage runs with it, and restoring it brings
 * back exactly those (issue #3); MLflow's runs/delete stays one run. Real repros, real HTTP, and
 * the CLI reading the same store.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ReproResult, RunSummary } from "../../schemas/api";
import { runCli } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";
import { M, trackingDaemon, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;

before(async () => {
  d = await trackingDaemon("lathe-runs-delete-");
  writeFiles(d.root, {
    "lathe.yaml": `stages:
  one:
    cmd: node -e "require('fs').writeFileSync('one.txt', '1')"
    outs: [one.txt]
    always_changed: true
  two:
    cmd: node -e "require('fs').writeFileSync('two.txt', '2')"
    deps: [one.txt]
    outs: [two.txt]
`,
  });
});

after(async () => {
  await d.close();
});

/** A repro of both stages; its parent run id and the two stage run ids. */
async function repro(): Promise<{ parent: string; stages: string[] }> {
  const r = await d.post("/api/v1/pipeline/repro", { force: true });
  assert.equal(r.status, 200, r.text);
  const result = r.json as ReproResult;
  assert.equal(result.ok, true, r.text);
  const stages = result.stages.map((s) => s.runId!);
  assert.equal(stages.length, 2);
  return { parent: result.parentRunId, stages };
}

async function lifecycleOf(ids: string[]): Promise<string[]> {
  const all = (await d.get("/api/v1/runs", { deleted: "include" })).json as RunSummary[];
  return ids.map((id) => all.find((r) => r.id === id)?.lifecycleStage ?? "missing");
}

async function listed(query: Record<string, string> = {}): Promise<string[]> {
  return ((await d.get("/api/v1/runs", query)).json as RunSummary[]).map((r) => r.id);
}

test("deleting a repro run deletes its stage runs; restoring it brings them back", async () => {
  const { parent, stages } = await repro();
  const del = await d.call("DELETE", `/api/v1/runs/${parent}`);
  assert.equal(del.status, 200, del.text);
  assert.equal((del.json as RunSummary).lifecycleStage, "deleted");
  assert.deepEqual(await lifecycleOf([parent, ...stages]), ["deleted", "deleted", "deleted"]);

  // No orphaned stage run shows at the top level, nor anywhere in the list.
  const top = await listed({ parent: "none" });
  const all = await listed();
  for (const id of [parent, ...stages]) {
    assert.equal(top.includes(id), false, id);
    assert.equal(all.includes(id), false, id);
  }
  // The CLI reads the same store and agrees.
  const cli = await runCli(["runs", "list", "--json"], { cwd: d.root });
  assert.equal(cli.code, 0, cli.stderr);
  const cliIds = (JSON.parse(cli.stdout) as RunSummary[]).map((r) => r.id);
  for (const id of [parent, ...stages]) {
    assert.equal(cliIds.includes(id), false, id);
  }

  const restored = await d.post(`/api/v1/runs/${parent}/restore`, {});
  assert.equal(restored.status, 200, restored.text);
  assert.equal((restored.json as RunSummary).lifecycleStage, "active");
  assert.deepEqual(await lifecycleOf([parent, ...stages]), ["active", "active", "active"]);
  assert.deepEqual((await listed({ parent })).sort(), [...stages].sort());
});

test("a stage run deleted on its own stays deleted when its repro is deleted and restored", async () => {
  const { parent, stages } = await repro();
  const [first, second] = stages as [string, string];
  assert.equal((await d.call("DELETE", `/api/v1/runs/${first}`)).status, 200);
  assert.deepEqual(await lifecycleOf([parent, first, second]), ["active", "deleted", "active"]);

  assert.equal((await d.call("DELETE", `/api/v1/runs/${parent}`)).status, 200);
  // Deleting twice is not an error and does not lose what the first delete took.
  assert.equal((await d.call("DELETE", `/api/v1/runs/${parent}`)).status, 200);
  assert.deepEqual(await lifecycleOf([parent, first, second]), ["deleted", "deleted", "deleted"]);

  assert.equal((await d.post(`/api/v1/runs/${parent}/restore`, {})).status, 200);
  assert.deepEqual(await lifecycleOf([parent, first, second]), ["active", "deleted", "active"]);
  // Restoring a stage run alone is the one run.
  assert.equal((await d.post(`/api/v1/runs/${first}/restore`, {})).status, 200);
  assert.deepEqual(await lifecycleOf([parent, first, second]), ["active", "active", "active"]);
});

test("deleting a stage run leaves its repro and sibling alone", async () => {
  const { parent, stages } = await repro();
  const [first, second] = stages as [string, string];
  assert.equal((await d.call("DELETE", `/api/v1/runs/${second}`)).status, 200);
  assert.deepEqual(await lifecycleOf([parent, first, second]), ["active", "active", "deleted"]);
  assert.deepEqual(await listed({ parent }), [first]);
});

test("nested runs go with their ancestor, however deep", async () => {
  const create = async (name: string, parent?: string) => {
    const tags = parent ? [{ key: "mlflow.parentRunId", value: parent }] : [];
    const r = await d.post(`${M}/runs/create`, { run_name: name, tags });
    assert.equal(r.status, 200, r.text);
    return r.json.run.info.run_id as string;
  };
  const top = await create("sweep");
  const trial = await create("trial", top);
  const fold = await create("fold", trial);
  assert.equal((await d.call("DELETE", `/api/v1/runs/${top}`)).status, 200);
  assert.deepEqual(await lifecycleOf([top, trial, fold]), ["deleted", "deleted", "deleted"]);
  assert.equal((await d.post(`/api/v1/runs/${top}/restore`, {})).status, 200);
  assert.deepEqual(await lifecycleOf([top, trial, fold]), ["active", "active", "active"]);
});

test("MLflow's runs/delete and runs/restore change the one run, as MLflow does", async () => {
  const { parent, stages } = await repro();
  assert.deepEqual((await d.post(`${M}/runs/delete`, { run_id: parent })).json, {});
  assert.deepEqual(await lifecycleOf([parent, ...stages]), ["deleted", "active", "active"]);
  assert.deepEqual((await d.post(`${M}/runs/restore`, { run_id: parent })).json, {});
  assert.deepEqual(await lifecycleOf([parent, ...stages]), ["active", "active", "active"]);
});

test("delete and restore of an unknown run are 404 and change nothing", async () => {
  const before = await listed();
  const unknown = "d".repeat(32);
  const del = await d.call("DELETE", `/api/v1/runs/${unknown}`);
  assert.equal(del.status, 404);
  assert.equal(del.json.code, "LATHE_NOT_FOUND");
  assert.equal((await d.post(`/api/v1/runs/${unknown}/restore`, {})).status, 404);
  assert.deepEqual(await listed(), before);
});
