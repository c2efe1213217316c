/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   MLflow replies are read field by field. */
/**
 * Each experiment's headline metric (extension/src/runs/headlineMetrics.ts): the choice kept per
 * experiment in a workspaceState-like store with the setting as the default, the metric keys an
 * experiment's runs logged (against a real daemon), the pick's rows, and run descriptions.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RunSummary } from "../../schemas/api";
import { runDescription } from "../../extension/src/runs/format";
import {
  HEADLINE_STATE_KEY,
  HeadlineMetrics,
  experimentMetricKeys,
  headlineChoices,
  type StateStore,
} from "../../extension/src/runs/headlineMetrics";
import { M, trackingDaemon, type TrackingDaemon } from "../daemon/tracking-helpers";

/** A Memento in memory, as workspaceState behaves: values come back as they were stored. */
function memoryState(): StateStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    get: <T>(key: string) => data.get(key) as T | undefined,
    update: (key: string, value: unknown) => {
      data.set(key, structuredClone(value));
      return Promise.resolve();
    },
  };
}

let d: TrackingDaemon;
const experiments: Record<string, string> = {};

/** Two experiments: "cls" logs accuracy and f1 (f1 in two runs of three), "reg" logs rmse. */
before(async () => {
  d = await trackingDaemon("lathe-headline-");
  const logged: [string, Record<string, number>][] = [
    ["cls", { accuracy: 0.8, f1: 0.7 }],
    ["cls", { accuracy: 0.9, f1: 0.75 }],
    ["cls", { accuracy: 0.85 }],
    ["reg", { rmse: 1.5 }],
  ];
  for (const [name, metrics] of logged) {
    experiments[name] ??= (await d.post(`${M}/experiments/create`, { name })).json.experiment_id;
    const run = (await d.post(`${M}/runs/create`, { experiment_id: experiments[name] })).json.run
      .info.run_id as string;
    const batch = Object.entries(metrics).map(([key, value]) => ({
      key,
      value,
      step: 0,
      timestamp: 1,
    }));
    assert.equal((await d.post(`/api/v1/runs/${run}/batch`, { metrics: batch })).status, 200);
  }
});

after(async () => {
  await d.close();
});

test("an experiment's own headline metric wins over the setting, and only for that experiment", async () => {
  const state = memoryState();
  let setting = "accuracy";
  const headlines = new HeadlineMetrics(state, () => setting);
  assert.equal(headlines.for("cls"), "accuracy");
  assert.equal(headlines.chosen("cls"), undefined);

  await headlines.choose("cls", "f1");
  assert.equal(headlines.for("cls"), "f1");
  assert.equal(headlines.for("reg"), "accuracy", "another experiment keeps the setting's");
  assert.deepEqual(state.data.get(HEADLINE_STATE_KEY), { cls: "f1" });

  // The setting stays the default of the others, and follows its changes.
  setting = "rmse";
  assert.equal(headlines.for("reg"), "rmse");
  assert.equal(headlines.for("cls"), "f1");

  // A new window reads the same state.
  assert.equal(new HeadlineMetrics(state, () => setting).for("cls"), "f1");

  await headlines.choose("cls", undefined);
  assert.equal(headlines.for("cls"), "rmse");
  assert.deepEqual(state.data.get(HEADLINE_STATE_KEY), {});
});

test("a broken stored value is ignored, not thrown", () => {
  const state = memoryState();
  state.data.set(HEADLINE_STATE_KEY, "not a map");
  assert.equal(new HeadlineMetrics(state, () => "accuracy").for("cls"), "accuracy");
  state.data.set(HEADLINE_STATE_KEY, { cls: 3 });
  assert.equal(new HeadlineMetrics(state, () => "accuracy").for("cls"), "accuracy");
});

test("an experiment's metric keys come from its own runs, the most common first", async () => {
  const cls = await experimentMetricKeys(d.daemon.client, experiments.cls!);
  assert.deepEqual(cls, {
    keys: [
      { key: "accuracy", runs: 3 },
      { key: "f1", runs: 2 },
    ],
    runs: 3,
  });
  const reg = await experimentMetricKeys(d.daemon.client, experiments.reg!);
  assert.deepEqual(reg.keys, [{ key: "rmse", runs: 1 }]);
});

test("the pick marks the current metric, lists it even when unlogged, and offers the setting back", () => {
  const keys = [
    { key: "accuracy", runs: 3 },
    { key: "f1", runs: 2 },
  ];
  const bySetting = headlineChoices(keys, 3, undefined, "accuracy");
  assert.deepEqual(
    bySetting.map((c) => [c.label, c.description, c.metric, c.current]),
    [
      ["$(check) accuracy", "in 3 of 3 runs · current (the setting's)", "accuracy", true],
      ["$(blank) f1", "in 2 of 3 runs", "f1", false],
    ],
  );
  const chosen = headlineChoices(keys, 3, "f1", "accuracy");
  assert.deepEqual(
    chosen.map((c) => [c.label, c.current]),
    [
      ["$(blank) accuracy", false],
      ["$(check) f1", true],
      ["$(discard) Use the setting's metric", false],
    ],
  );
  assert.equal(chosen.at(-1)!.metric, undefined);
  assert.equal(chosen.at(-1)!.description, "lathe.runs.headlineMetric: accuracy");
  // The setting names a metric these runs never logged: it is still shown as the current one.
  const unlogged = headlineChoices([{ key: "rmse", runs: 1 }], 1, undefined, "accuracy");
  assert.deepEqual(
    unlogged.map((c) => [c.label, c.description]),
    [
      ["$(blank) rmse", "in 1 of 1 run"],
      ["$(check) accuracy", "no run logged it · current (the setting's)"],
    ],
  );
});

test("a run is described with its experiment's headline metric", async () => {
  const headlines = new HeadlineMetrics(memoryState(), () => "accuracy");
  await headlines.choose("cls", "f1");
  const runs = (await d.get("/api/v1/runs", { experiment: experiments.cls! })).json as RunSummary[];
  const withF1 = runs.find((r) => "f1" in r.metrics)!;
  const described = runDescription(withF1, headlines.for(withF1.experimentName), withF1.startTime);
  assert.match(described, /· f1 0\.7\d* ·/);
  const reg = (await d.get("/api/v1/runs", { experiment: experiments.reg! })).json as RunSummary[];
  assert.match(runDescription(reg[0]!, headlines.for(reg[0]!.experimentName)), /· rmse 1\.5 ·/);
});
