import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelSignature } from "../../schemas/api";
import { LatheError } from "../../daemon/src/errors";
import { recordsToFeeds, toPredictions } from "../../daemon/src/serving/predict";
import { parseInferRequest, toOipTensor } from "../../daemon/src/serving/tensors";

const weather: ModelSignature = {
  inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
  outputs: [
    { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
    { name: "label", datatype: "INT64", shape: [-1] },
  ],
  features: ["precipitation", "temp_max", "temp_min", "wind"],
  labels: ["rain", "sun"],
};

function badInput(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LatheError);
    assert.equal(err.code, "LATHE_BAD_INPUT");
    assert.match(err.message, pattern);
    return true;
  });
}

const input = (over: Record<string, unknown>) => ({
  inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4], ...over }],
});

void test("OIP data may be flat or nested; outputs default to all of the model's", () => {
  const flat = parseInferRequest(input({}), weather);
  const nested = parseInferRequest(input({ data: [[1, 2, 3, 4]] }), weather);
  assert.deepEqual(flat.feeds.features, nested.feeds.features);
  assert.deepEqual(flat.feeds.features!.data, Float32Array.from([1, 2, 3, 4]));
  assert.deepEqual(flat.outputs, ["probabilities", "label"]);
  const one = parseInferRequest({ ...input({}), outputs: [{ name: "label" }] }, weather);
  assert.deepEqual(one.outputs, ["label"]);
});

void test("OIP requests with a wrong name, datatype, shape, count or value are refused by name", () => {
  badInput(
    () => parseInferRequest(input({ name: "x" }), weather),
    /unknown input 'x'; the model's inputs are features/,
  );
  badInput(() => parseInferRequest({ inputs: [] }, weather), /missing input 'features'/);
  badInput(
    () => parseInferRequest(input({ datatype: "FP64" }), weather),
    /datatype "FP64"; the model expects FP32/,
  );
  badInput(
    () => parseInferRequest(input({ shape: [4] }), weather),
    /shape \[4\]; the model expects \[-1,4\]/,
  );
  badInput(
    () => parseInferRequest(input({ shape: [2, 4] }), weather),
    /has 4 values; shape \[2,4\] needs 8/,
  );
  badInput(
    () => parseInferRequest(input({ data: [1, 2, "3", 4] }), weather),
    /value 2 \("3"\) is not a finite number/,
  );
  badInput(
    () => parseInferRequest({ ...input({}), outputs: [{ name: "logits" }] }, weather),
    /unknown output 'logits'/,
  );
  badInput(() => parseInferRequest("[]", weather), /'inputs' array/);
});

void test("INT64 inputs become BigInt64Array and INT64 outputs plain JSON numbers", () => {
  const ids: ModelSignature = {
    inputs: [{ name: "ids", datatype: "INT64", shape: [-1] }],
    outputs: [],
  };
  const parsed = parseInferRequest(
    { inputs: [{ name: "ids", shape: [2], datatype: "INT64", data: [7, -3] }] },
    ids,
  );
  assert.deepEqual(parsed.feeds.ids!.data, BigInt64Array.from([7n, -3n]));
  badInput(
    () =>
      parseInferRequest(
        { inputs: [{ name: "ids", shape: [1], datatype: "INT64", data: [1.5] }] },
        ids,
      ),
    /not an integer/,
  );
  const out = toOipTensor("label", {
    type: "int64",
    dims: [2],
    data: BigInt64Array.from([1n, 0n]),
  });
  assert.deepEqual(out, { name: "label", shape: [2], datatype: "INT64", data: [1, 0] });
});

void test("records become one FP32 [N,F] tensor in the model's feature order", () => {
  const feeds = recordsToFeeds(
    [
      { wind: 4, temp_min: 3, temp_max: 2, precipitation: 1 },
      { precipitation: 5, temp_max: 6, temp_min: 7, wind: 8 },
    ],
    weather,
  );
  assert.deepEqual(feeds.features!.dims, [2, 4]);
  assert.deepEqual(feeds.features!.data, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
});

void test("records with an unknown or missing feature, a non-number or no records are refused", () => {
  const ok = { precipitation: 0, temp_max: 1, temp_min: 2, wind: 3 };
  badInput(
    () => recordsToFeeds({ records: [{ ...ok, temp: 1 }] }, weather),
    /^record 0 has an unknown feature 'temp'; expected precipitation, temp_max, temp_min, wind\.$/,
  );
  badInput(
    () =>
      recordsToFeeds({ records: [ok, { precipitation: 0, temp_max: 1, temp_min: 2 }] }, weather),
    /record 1 is missing feature 'wind'/,
  );
  badInput(
    () => recordsToFeeds({ records: [{ ...ok, wind: null }] }, weather),
    /record 0 field 'wind' must be a finite number, got null/,
  );
  badInput(() => recordsToFeeds({ records: [] }, weather), /at least one record/);
  badInput(() => recordsToFeeds([7], weather), /record 0 must be an object/);
  const noFeatures = { ...weather, features: undefined };
  badInput(() => recordsToFeeds([ok], noFeatures), /use \/v2\/models\/\{name\}\/infer/);
});

void test("predictions name the class and its probabilities, or keep raw outputs without labels", () => {
  const outputs = {
    probabilities: {
      type: "float32" as const,
      dims: [2, 2],
      data: Float32Array.from([0.25, 0.75, 1, 0]),
    },
    label: { type: "int64" as const, dims: [2], data: BigInt64Array.from([1n, 0n]) },
  };
  assert.deepEqual(toPredictions(outputs, weather, 2), [
    { label: "sun", probabilities: { rain: 0.25, sun: 0.75 } },
    { label: "rain", probabilities: { rain: 1, sun: 0 } },
  ]);
  assert.deepEqual(toPredictions(outputs, { ...weather, labels: undefined }, 2), [
    { probabilities: [0.25, 0.75], label: 1 },
    { probabilities: [1, 0], label: 0 },
  ]);
});
