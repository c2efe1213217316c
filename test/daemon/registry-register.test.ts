import assert from "node:assert/strict";
import { test } from "node:test";
import { closeContext, openContext, type Context } from "../../daemon/src/context";
import { LatheError } from "../../daemon/src/errors";
import { getModel, listModels } from "../../daemon/src/registry/models";
import { register } from "../../daemon/src/registry/register";
import { readSignature } from "../../daemon/src/registry/signature";
import { linearSoftmaxModel, seedRun, weatherFeatures, weatherLabels } from "../fixtures/onnx";
import { removeDir, tempDir } from "../helpers";

async function withContext(fn: (ctx: Context) => void | Promise<void>): Promise<void> {
  const root = await tempDir();
  const ctx = openContext(root, { quiet: true });
  try {
    await fn(ctx);
  } finally {
    closeContext(ctx);
    await removeDir(root);
  }
}

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LatheError);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

void test("the signature of an ONNX model gives OIP datatypes, -1 for symbolic dims, features and labels", () => {
  const signature = readSignature(linearSoftmaxModel(), "models/weather.onnx");
  assert.deepEqual(signature, {
    inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
    outputs: [
      { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
      { name: "label", datatype: "INT64", shape: [-1] },
    ],
    features: weatherFeatures,
    labels: weatherLabels,
  });
});

void test("a model without Lathe metadata has a signature without features or labels", () => {
  const signature = readSignature(linearSoftmaxModel({ withoutMetadata: true }), "m.onnx");
  assert.equal(signature.features, undefined);
  assert.equal(signature.labels, undefined);
  assert.equal(signature.inputs[0]!.name, "features");
});

void test("bytes that are not ONNX are refused as bad input naming the file", () => {
  rejects(
    () => readSignature(Buffer.from("not a model at all"), "models/broken.onnx"),
    "LATHE_BAD_INPUT",
    /models\/broken\.onnx/,
  );
});

void test("registering a run's ONNX output twice makes versions 1 and 2 with its metrics and params", () =>
  withContext((ctx) => {
    const events: unknown[] = [];
    ctx.events.on((e) => events.push(e));
    const first = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel(), {
      metrics: { accuracy: 0.8 },
      params: { "train.lr": "0.1" },
    });
    const second = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel({ bias: [0, 0, 0] }));

    const v1 = register(ctx, { model: "weather-model", runId: first.runId });
    const v2 = register(ctx, { model: "weather-model", runId: second.runId });

    assert.equal(v1.version, 1);
    assert.equal(v2.version, 2);
    assert.equal(v1.oid, first.oid);
    assert.equal(v1.path, "models/weather.onnx");
    assert.deepEqual(v1.metrics, { accuracy: 0.8 });
    assert.deepEqual(v1.params, { "train.lr": "0.1" });
    assert.deepEqual(v1.signature.features, weatherFeatures);
    assert.deepEqual(
      getModel(ctx, "weather-model").versions.map((v) => v.version),
      [1, 2],
    );
    assert.deepEqual(
      listModels(ctx).map((m) => m.name),
      ["weather-model"],
    );
    assert.deepEqual(events, [
      { type: "models/changed", model: "weather-model" },
      { type: "models/changed", model: "weather-model" },
    ]);
  }));

void test("registering from an unknown run is LATHE_NOT_FOUND naming the run", () =>
  withContext((ctx) => {
    rejects(
      () => register(ctx, { model: "m", runId: "0123456789abcdef0123456789abcdef" }),
      "LATHE_NOT_FOUND",
      /0123456789abcdef0123456789abcdef/,
    );
  }));

void test("a run without an .onnx output, or a wrong --path, is refused listing its outputs", () =>
  withContext((ctx) => {
    const run = seedRun(ctx.db, ctx.ws.objectsDir, Buffer.from("a,b\n1,2\n"), {
      outPath: "data/out.csv",
    });
    rejects(
      () => register(ctx, { model: "m", runId: run.runId }),
      "LATHE_NOT_FOUND",
      /no \.onnx output; its outputs: data\/out\.csv/,
    );
    rejects(
      () => register(ctx, { model: "m", runId: run.runId, path: "x.onnx" }),
      "LATHE_NOT_FOUND",
      /no output 'x\.onnx'/,
    );
  }));

void test("registering an output that is not ONNX is bad input naming the file", () =>
  withContext((ctx) => {
    const run = seedRun(ctx.db, ctx.ws.objectsDir, Buffer.from("garbage"), {
      outPath: "models/bad.onnx",
    });
    rejects(
      () => register(ctx, { model: "m", runId: run.runId }),
      "LATHE_BAD_INPUT",
      /models\/bad\.onnx is not an ONNX model \(/,
    );
    assert.deepEqual(listModels(ctx), []);
  }));

void test("a model name that cannot be a URL segment is refused", () =>
  withContext((ctx) => {
    const run = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel());
    rejects(
      () => register(ctx, { model: "../evil", runId: run.runId }),
      "LATHE_BAD_INPUT",
      /not a valid model name/,
    );
  }));
