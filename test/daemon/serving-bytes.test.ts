/**
 * The Open Inference Protocol's BYTES datatype (#5): a model over strings (StringNormalizer,
 * lower case) served by a real worker through onnxruntime-node; strings in and out, concurrent
 * requests merged into one batch with each answer its own rows, unicode kept, and a non-string
 * element refused with a 400 that names it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lowerCaseModel } from "../fixtures/onnx";
import { deploy, registerVersions, withDaemon, workerClient } from "./serving-helpers";

const infer = (data: unknown[], id?: string) => ({
  ...(id === undefined ? {} : { id }),
  inputs: [{ name: "text", shape: [data.length], datatype: "BYTES", data }],
});

void test("BYTES inputs and outputs: strings through a served string model", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "lower", [lowerCaseModel()]);
    const metadata = await daemon.client.call<{ signature: { inputs: { datatype: string }[] } }>(
      "GET",
      "/api/v1/models/lower/versions/1",
    );
    assert.equal(metadata.signature.inputs[0]!.datatype, "BYTES");
    const served = await deploy(daemon, { model: "lower", maxBatchRows: 64, maxDelayMs: 20 });
    const call = workerClient(daemon, served.port!);

    const one = await call("POST", "/v2/models/lower/infer", infer(["Hello", "WÖRLD ÇA"], "r1"));
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.id, "r1");
    assert.deepEqual(one.json.outputs, [
      { name: "lower", shape: [2], datatype: "BYTES", data: ["hello", "wörld ça"] },
    ]);

    // Concurrent requests of different lengths share a batch; each gets its own strings back.
    const words = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 1 + (i % 3) }, (_, j) => `Run${i}-Word${j}`),
    );
    const replies = await Promise.all(
      words.map((w, i) => call("POST", "/v2/models/lower/infer", infer(w, `c${i}`))),
    );
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.id, `c${i}`);
      const [output] = reply.json.outputs as { data: string[]; shape: number[] }[];
      assert.deepEqual(
        output!.data,
        words[i]!.map((w) => w.toLowerCase()),
      );
      assert.deepEqual(output!.shape, [words[i]!.length]);
    });
    const metrics = (await call("GET", "/metrics")).text;
    const runs = Number(/lathe_serving_batch_rows_count\{version="1"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(
      runs < 1 + words.length,
      `${runs} session.run calls for ${1 + words.length} requests`,
    );

    const bad = await call("POST", "/v2/models/lower/infer", infer(["ok", 3]));
    assert.equal(bad.status, 400, bad.text);
    assert.match(String(bad.json.error), /text/);
    assert.match(String(bad.json.error), /string/i);
    const wrongType = await call("POST", "/v2/models/lower/infer", {
      inputs: [{ name: "text", shape: [1], datatype: "FP32", data: [1] }],
    });
    assert.equal(wrongType.status, 400, wrongType.text);
    assert.match(String(wrongType.json.error), /expects BYTES/);
  }));
