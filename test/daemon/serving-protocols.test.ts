import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { expectedLinearSoftmax, linearSoftmaxModel, weatherFeatures } from "../fixtures/onnx";
import { mixedTypesModel } from "../fixtures/onnx-mixed";
import { daemonIn, removeDir, tempDir } from "../helpers";
import {
  deploy,
  registerVersions,
  weatherRecords,
  weatherRows,
  workerClient,
  type TestDaemon,
} from "./serving-helpers";

// The worker runs from dist/: `node scripts/build.mjs --quiet` first.

const close = (a: number, b: number) => Math.abs(a - b) < 1e-5;

void describe("a deployment answers each protocol in its documented shape (#5)", () => {
  let root: string;
  let daemon: TestDaemon;
  let weather: ReturnType<typeof workerClient>;
  let mixed: ReturnType<typeof workerClient>;
  const expected = expectedLinearSoftmax(weatherRows);

  before(async () => {
    root = await tempDir();
    daemon = await daemonIn(root);
    await registerVersions(daemon, "weather", [linearSoftmaxModel()]);
    await registerVersions(daemon, "mixed", [mixedTypesModel()]);
    weather = workerClient(daemon, (await deploy(daemon, { model: "weather@1" })).port!);
    mixed = workerClient(daemon, (await deploy(daemon, { model: "mixed" })).port!);
  });

  after(async () => {
    await daemon.close();
    await removeDir(root);
  });

  void test("OIP health, server metadata, model and version metadata and readiness", async () => {
    assert.deepEqual((await weather("GET", "/v2/health/live")).json, { live: true });
    assert.deepEqual((await weather("GET", "/v2/health/ready")).json, { ready: true });
    assert.deepEqual((await weather("GET", "/v2")).json, {
      name: "lathe",
      version: "2",
      extensions: [],
    });
    const meta = await weather("GET", "/v2/models/weather/versions/1");
    assert.deepEqual(meta.json, {
      name: "weather",
      versions: ["1"],
      platform: "onnxruntime",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
        { name: "label", datatype: "INT64", shape: [-1] },
      ],
    });
    assert.deepEqual((await weather("GET", "/v2/models/weather/ready")).json, {
      name: "weather",
      ready: true,
    });
    assert.equal((await weather("GET", "/v2/models/weather/versions/1/ready")).status, 200);
    const other = await weather("GET", "/v2/models/weather/versions/7/ready");
    assert.equal(other.status, 404);
    assert.match(other.json.error as string, /serves version 1 of 'weather', not version 7/);
  });

  void test("OIP infer echoes the id, honours the outputs filter and serves FP64, INT64 and BOOL", async () => {
    const filtered = await weather("POST", "/v2/models/weather/versions/1/infer", {
      id: "req-42",
      inputs: [{ name: "features", shape: [3, 4], datatype: "FP32", data: weatherRows.flat() }],
      outputs: [{ name: "label" }],
    });
    assert.equal(filtered.status, 200, filtered.text);
    assert.deepEqual(filtered.json, {
      model_name: "weather",
      model_version: "1",
      id: "req-42",
      outputs: [
        { name: "label", shape: [3], datatype: "INT64", data: expected.map((e) => e.label) },
      ],
    });

    const answer = await mixed("POST", "/v2/models/mixed/infer", {
      inputs: [
        {
          name: "x",
          shape: [2, 2],
          datatype: "FP64",
          data: [
            [1.5, -2],
            [0.1, 3],
          ],
        },
        { name: "n", shape: [2], datatype: "INT64", data: [41, -8] },
        { name: "flag", shape: [2], datatype: "BOOL", data: [true, false] },
      ],
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.outputs, [
      { name: "squared", shape: [2, 2], datatype: "FP64", data: [2.25, 4, 0.1 * 0.1, 9] },
      { name: "next", shape: [2], datatype: "INT64", data: [42, -7] },
      { name: "negated", shape: [2], datatype: "BOOL", data: [false, true] },
    ]);
  });

  void test("MLflow /invocations reads dataframe_split, dataframe_records, instances, inputs and CSV", async () => {
    const split = await weather("POST", "/invocations", {
      dataframe_split: { columns: weatherFeatures, data: weatherRows },
    });
    assert.equal(split.status, 200, split.text);
    const records = split.json.predictions as { probabilities: number[]; label: number }[];
    assert.equal(records.length, 3);
    records.forEach((r, i) => {
      assert.equal(r.label, expected[i]!.label);
      r.probabilities.forEach((p, j) => assert.ok(close(p, expected[i]!.probabilities[j]!)));
    });

    // Columns in another order than the model's features still land in the right place.
    const reordered = await weather("POST", "/invocations", {
      dataframe_records: weatherRecords.map(({ wind, ...rest }) => ({ wind, ...rest })),
    });
    assert.deepEqual(reordered.json, split.json);

    const instances = await weather("POST", "/invocations", { instances: weatherRows });
    const tensors = instances.json.predictions as { probabilities: number[][]; label: number[] };
    assert.deepEqual(
      tensors.label,
      expected.map((e) => e.label),
    );
    assert.equal(tensors.probabilities.length, 3);
    assert.ok(close(tensors.probabilities[2]![1]!, expected[2]!.probabilities[1]!));

    const inputs = await weather("POST", "/invocations", { inputs: { features: weatherRows } });
    assert.deepEqual(inputs.json, instances.json);

    const csv = [
      "wind,precipitation,temp_max,temp_min",
      ...weatherRecords.map((r) => `${r.wind},${r.precipitation},${r.temp_max},${r.temp_min}`),
    ].join("\r\n");
    const fromCsv = await weather("POST", "/invocations", csv, { "Content-Type": "text/csv" });
    assert.equal(fromCsv.status, 200, fromCsv.text);
    assert.deepEqual(fromCsv.json, split.json);

    const named = await mixed("POST", "/invocations", {
      instances: [
        { x: [1, 2], n: 1, flag: true },
        { x: [3, 4], n: 2, flag: false },
      ],
    });
    assert.equal(named.status, 200, named.text);
    assert.deepEqual(named.json.predictions, {
      squared: [
        [1, 4],
        [9, 16],
      ],
      next: [2, 3],
      negated: [false, true],
    });
  });

  void test("MLflow /invocations takes instances as one object per row and an empty params (#5)", async () => {
    const asArrays = await weather("POST", "/invocations", { instances: weatherRows });
    assert.equal(asArrays.status, 200, asArrays.text);

    // The per-row form of MLflow's scoring server: each instance keyed by input name.
    const keyed = await weather("POST", "/invocations", {
      instances: weatherRows.map((features) => ({ features })),
    });
    assert.equal(keyed.status, 200, keyed.text);
    assert.deepEqual(keyed.json, asArrays.json);
    const one = await weather("POST", "/invocations", {
      instances: [{ features: [0, 12.2, 5.6, 4.7] }],
    });
    assert.equal(one.status, 200, one.text);
    assert.deepEqual((one.json.predictions as { label: number[] }).label, [
      expectedLinearSoftmax([[0, 12.2, 5.6, 4.7]])[0]!.label,
    ]);

    // A tabular model's instances keyed by feature name are dataframe records.
    const byFeature = await weather("POST", "/invocations", { instances: weatherRecords });
    const records = await weather("POST", "/invocations", { dataframe_records: weatherRecords });
    assert.equal(byFeature.status, 200, byFeature.text);
    assert.deepEqual(byFeature.json, records.json);

    for (const params of [{}, null]) {
      const withParams = await weather("POST", "/invocations", { instances: weatherRows, params });
      assert.equal(withParams.status, 200, withParams.text);
      assert.deepEqual(withParams.json, asArrays.json);
    }
  });

  void test("MLflow /ping, /health and /version answer 200, and the plain /predict still works", async () => {
    for (const path of ["/ping", "/health", "/version"]) {
      assert.equal((await weather("GET", path)).status, 200, path);
    }
    const predicted = await weather("POST", "/predict", { records: weatherRecords });
    assert.equal(predicted.status, 200);
    assert.equal((predicted.json.predictions as unknown[]).length, 3);
  });

  void test("Prometheus /metrics counts requests by status, latency, batch rows, queue depth and version", async () => {
    await weather("POST", "/predict", { records: [{ wind: 1 }] }); // a 400
    const metrics = await weather("GET", "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers["content-type"]), /^text\/plain/);
    const text = metrics.text;
    assert.match(
      text,
      /lathe_serving_requests_total\{endpoint="predict",status="200",version="1"\} [1-9]/,
    );
    assert.match(
      text,
      /lathe_serving_requests_total\{endpoint="predict",status="400",version="1"\} 1/,
    );
    assert.match(
      text,
      /lathe_serving_request_duration_seconds_bucket\{le="0.5",endpoint="infer",version="1"\} [1-9]/,
    );
    assert.match(text, /lathe_serving_batch_rows_count\{version="1"\} [1-9]/);
    assert.match(text, /lathe_serving_queue_depth\{version="1"\} 0/);
    assert.match(text, /lathe_serving_model_version\{model="weather",version="1"\} 100/);
  });
});
