/**
 * examples/weather: runs the three stage scripts as real child processes in a copy of the example
 * and checks the split, the exported ONNX model (interface, metadata, numerics), the metrics and
 * that training is byte-for-byte deterministic (the pipeline cache relies on it).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, readFileSync, symlinkSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import type { MetricHistory, ReproResult, RunDetail } from "../../schemas/api";
import { daemonIn, removeDir, repoRoot, tempDir } from "../helpers";

const run = promisify(execFile);
const exampleDir = join(repoRoot, "examples", "weather");
const FEATURES = ["precipitation", "temp_max", "temp_min", "wind"];
const LABELS = ["drizzle", "fog", "rain", "snow", "sun"];

let dir = "";

async function stage(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [join("src", `${name}.js`)], {
    cwd: dir,
    timeout: 60_000,
  });
  return stdout;
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
}

function readCsv(file: string): Record<string, string>[] {
  const lines = readFileSync(join(dir, file), "utf8").trim().split("\n");
  const header = lines[0]!.split(",");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(header.map((h, i) => [h, cells[i]!]));
  });
}

/** Float32 values of a raw-data initializer. */
function floats(graph: onnx.IGraphProto, name: string): number[] {
  const t = graph.initializer!.find((i) => i.name === name);
  assert.ok(t?.rawData, `initializer ${name}`);
  const buf = Buffer.from(t.rawData);
  return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
}

before(async () => {
  dir = await tempDir("lathe-weather-");
  // Copy the example's sources and data only: no outputs left over from running it in place.
  const ignored = ["data/prepared", "models", "metrics", ".lathe"].map((p) =>
    p.split("/").join(sep),
  );
  cpSync(exampleDir, dir, {
    recursive: true,
    filter: (src) => !ignored.some((p) => relative(exampleDir, src).startsWith(p)),
  });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  await stage("prepare");
  await stage("train");
  await stage("evaluate");
});

after(async () => {
  if (dir) {
    await removeDir(dir);
  }
});

test("prepare splits Seattle 2012-2014 / 2015", () => {
  const train = readCsv("data/prepared/train.csv");
  const test = readCsv("data/prepared/test.csv");
  assert.equal(train.length, 1096);
  assert.equal(test.length, 365);
  const columns = ["date", ...FEATURES, "weather"];
  assert.deepEqual(Object.keys(train[0]!), columns);
  assert.ok(train.every((r) => /^201[234]-/.test(r.date!)));
  assert.ok(test.every((r) => r.date!.startsWith("2015-")));
  assert.equal(train[0]!.date, "2012-01-01");
  assert.equal(test.at(-1)!.date, "2015-12-31");
});

test("the ONNX model has the documented interface and metadata", async () => {
  const bytes = readFileSync(join(dir, "models", "weather.onnx"));
  const model = onnx.ModelProto.decode(bytes);
  assert.equal(Number(model.irVersion), 8);
  assert.deepEqual(
    model.opsetImport.map((o) => [o.domain ?? "", Number(o.version)]),
    [["", 13]],
  );
  assert.equal(model.producerName, "lathe-example");
  const meta = new Map(model.metadataProps.map((p) => [String(p.key), String(p.value)]));
  assert.deepEqual(JSON.parse(meta.get("lathe.features") ?? "null"), FEATURES);
  assert.deepEqual(JSON.parse(meta.get("lathe.labels") ?? "null"), LABELS);
  assert.deepEqual(
    model.graph!.node!.map((n) => n.opType),
    ["Sub", "Div", "MatMul", "Add", "Softmax", "ArgMax"],
  );

  const session = await ort.InferenceSession.create(join(dir, "models", "weather.onnx"), {
    intraOpNumThreads: 1,
  });
  try {
    assert.deepEqual(session.inputNames, ["features"]);
    assert.deepEqual(session.outputNames, ["probabilities", "label"]);
    const shape = (m: ort.InferenceSession.ValueMetadata) => {
      assert.ok(m.isTensor);
      return { name: m.name, type: m.type, shape: [...m.shape] };
    };
    assert.deepEqual(session.inputMetadata.map(shape), [
      { name: "features", type: "float32", shape: ["N", 4] },
    ]);
    assert.deepEqual(session.outputMetadata.map(shape), [
      { name: "probabilities", type: "float32", shape: ["N", 5] },
      { name: "label", type: "int64", shape: ["N"] },
    ]);
  } finally {
    await session.release();
  }
});

test("predictions equal an independent computation from the exported weights", async () => {
  const model = onnx.ModelProto.decode(readFileSync(join(dir, "models", "weather.onnx")));
  const graph = model.graph!;
  const mean = floats(graph, "mean");
  const std = floats(graph, "std");
  const W = floats(graph, "W");
  const b = floats(graph, "b");
  assert.equal(W.length, 4 * 5);

  const rows = readCsv("data/prepared/test.csv");
  const n = rows.length;
  const data = new Float32Array(n * 4);
  rows.forEach((r, i) => FEATURES.forEach((f, j) => (data[i * 4 + j] = Number(r[f]))));
  const session = await ort.InferenceSession.create(join(dir, "models", "weather.onnx"), {
    intraOpNumThreads: 1,
  });
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await session.run({ features: new ort.Tensor("float32", data, [n, 4]) });
  } finally {
    await session.release();
  }
  const probs = out.probabilities!;
  const label = out.label!;
  assert.deepEqual(probs.dims, [n, 5]);
  assert.deepEqual(label.dims, [n]);
  assert.equal(label.type, "int64");
  const p = probs.data as Float32Array;
  const l = label.data as BigInt64Array;

  for (let i = 0; i < n; i++) {
    const x = FEATURES.map((_, j) => (data[i * 4 + j]! - mean[j]!) / std[j]!);
    const z = b.map((bc, c) => bc + x.reduce((s, xj, j) => s + xj * W[j * 5 + c]!, 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((s, v) => s + v, 0);
    const expected = e.map((v) => v / sum);
    const row = Array.from(p.subarray(i * 5, i * 5 + 5));
    expected.forEach((v, c) => assert.ok(Math.abs(v - row[c]!) < 1e-5, `row ${i} class ${c}`));
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
    assert.equal(Number(l[i]), row.indexOf(Math.max(...row)), `argmax of row ${i}`);
  }
});

test("metrics files have the expected keys and beat the majority baseline", () => {
  const train = readJson("metrics/train.json");
  assert.deepEqual(Object.keys(train).sort(), ["accuracy", "loss", "step"]);
  assert.equal(train.step, 500, "the final metrics are step `epochs` of the history");
  assert.ok((train.accuracy as number) > 0.7);

  const evalMetrics = readJson("metrics/eval.json");
  for (const key of ["accuracy", "f1_macro", "baseline_accuracy"]) {
    assert.equal(typeof evalMetrics[key], "number", key);
  }
  // The majority class of Seattle 2015 is "sun": 162 of 365 days.
  assert.equal(evalMetrics.baseline_accuracy, Math.round((162 / 365) * 1e6) / 1e6);
  assert.ok((evalMetrics.accuracy as number) > evalMetrics.baseline_accuracy + 0.2);
  assert.ok((evalMetrics.f1_macro as number) > 0 && (evalMetrics.f1_macro as number) <= 1);

  const confusion = readJson("metrics/confusion.json") as { labels: string[]; matrix: number[][] };
  assert.deepEqual(confusion.labels, LABELS);
  assert.equal(
    confusion.matrix.flat().reduce((s, v) => s + v, 0),
    365,
  );
  const correct = confusion.labels.reduce((s, _, i) => s + confusion.matrix[i]![i]!, 0);
  assert.equal(Math.round((correct / 365) * 1e6) / 1e6, evalMetrics.accuracy);

  const history = readFileSync(join(dir, "metrics", "train_history.csv"), "utf8")
    .trim()
    .split("\n");
  assert.equal(history[0], "epoch,loss,accuracy");
  assert.equal(history.length, 501, "the header and epochs 0 to 499");
  assert.match(history[1]!, /^0,/);
  const first = history[1]!.split(",").map(Number);
  const last = history.at(-1)!.split(",").map(Number);
  assert.ok(last[1]! < first[1]!, "loss decreases");
});

test("training twice gives a byte-identical model and metrics", async () => {
  const model = readFileSync(join(dir, "models", "weather.onnx"));
  const metrics = readFileSync(join(dir, "metrics", "train.json"));
  await stage("train");
  assert.ok(readFileSync(join(dir, "models", "weather.onnx")).equals(model));
  assert.ok(readFileSync(join(dir, "metrics", "train.json")).equals(metrics));
});

test("lathe repro in the daemon logs the train run's loss and accuracy curves, step = epoch", async () => {
  const daemon = await daemonIn(dir);
  try {
    const reply = await fetch(`${daemon.url}/api/v1/pipeline/repro`, {
      method: "POST",
      headers: { Authorization: `Bearer ${daemon.info.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ force: true }),
    });
    const result = (await reply.json()) as ReproResult;
    const train = result.stages.find((s) => s.stage === "train");
    assert.equal(train?.status, "ran", JSON.stringify(result));
    const final = readJson("metrics/train.json");
    for (const key of ["loss", "accuracy"]) {
      const url = `${daemon.url}/api/v1/runs/${train.runId}/metrics/history?key=${key}&points=1000`;
      const history = (await (
        await fetch(url, { headers: { Authorization: `Bearer ${daemon.info.token}` } })
      ).json()) as MetricHistory;
      assert.equal(history.total, 501, key);
      assert.deepEqual(
        history.points.map((p) => p.step),
        Array.from({ length: 501 }, (_, i) => i),
        `${key}: one point per epoch and the final one, no extra step 0`,
      );
      assert.equal(history.points.at(-1)!.value, final[key], `${key} at step 500 is train.json's`);
    }
    const loss = (await (
      await fetch(`${daemon.url}/api/v1/runs/${train.runId}`, {
        headers: { Authorization: `Bearer ${daemon.info.token}` },
      })
    ).json()) as RunDetail;
    assert.equal(loss.metrics.loss?.step, 500);
  } finally {
    await daemon.close();
  }
});

test("registering from the evaluate run by an id prefix registers train's model with the test metrics", async () => {
  const daemon = await daemonIn(dir);
  try {
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const reply = await fetch(`${daemon.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${daemon.info.token}`,
          "Content-Type": "application/json",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await reply.json()) as T;
      assert.ok(reply.ok, JSON.stringify(json));
      return json;
    };
    const result = await call<ReproResult>("POST", "/api/v1/pipeline/repro", { force: true });
    const runOf = (stage: string) => result.stages.find((s) => s.stage === stage)!.runId!;

    const version = await call<{ runId: string; metrics: Record<string, number | null> }>(
      "POST",
      "/api/v1/models/weather-from-eval/versions",
      { runId: runOf("evaluate").slice(0, 8) },
    );

    assert.equal(version.runId, runOf("train"), "the version's source is the run that wrote it");
    assert.equal(version.metrics.accuracy, readJson("metrics/eval.json").accuracy);
    assert.equal(version.metrics.loss, readJson("metrics/train.json").loss);

    // prepare read no model: it is refused, not given some other stage's model.
    const refused = await fetch(`${daemon.url}/api/v1/models/weather-from-eval/versions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${daemon.info.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ runId: runOf("prepare") }),
    });
    assert.equal(refused.status, 404);
    assert.match(((await refused.json()) as { message: string }).message, /has no \.onnx output/);
  } finally {
    await daemon.close();
  }
});
