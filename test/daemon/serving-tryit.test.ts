import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelVersion } from "../../schemas/api";
import { isTryItWebviewMessage } from "../../schemas/tryit";
import { compactJson, sendTryIt, tryItEndpoints } from "../../extension/src/models/tryItRequests";
import { linearSoftmaxModel } from "../fixtures/onnx";
import { mixedTypesModel } from "../fixtures/onnx-mixed";
import { deploy, registerVersions, withDaemon } from "./serving-helpers";

// The worker runs from dist/: `node scripts/build.mjs --quiet` first.

void test("every request Try it prefills from a signature is answered 200 by a real deployment (#5)", () =>
  withDaemon(async (daemon) => {
    await registerVersions(daemon, "weather", [linearSoftmaxModel()]);
    await registerVersions(daemon, "mixed", [mixedTypesModel()]);
    for (const [name, ids] of [
      ["weather", ["infer", "predict", "invocations"]],
      ["mixed", ["infer", "invocations"]],
    ] as const) {
      const deployment = await deploy(daemon, { model: name });
      const version = await daemon.client.call<ModelVersion>(
        "GET",
        `/api/v1/models/${name}/versions/1`,
      );
      const endpoints = tryItEndpoints(name, version.signature);
      assert.deepEqual(
        endpoints.map((e) => e.id),
        ids,
      );
      for (const endpoint of endpoints) {
        const answer = await sendTryIt(
          deployment.url!,
          daemon.info.token,
          endpoint,
          endpoint.example,
        );
        assert.equal(answer.status, 200, `${name} ${endpoint.path}: ${answer.body}`);
        assert.ok(answer.body.includes("\n  "), "the answer is pretty-printed JSON");
      }
      const refused = await sendTryIt(deployment.url!, daemon.info.token, endpoints[0]!, "{oops");
      assert.equal(refused.status, 400);
      assert.match(refused.body, /Request body is not JSON/);
    }
  }));

void test("the Try it host accepts only the webview messages of its contract (#5)", () => {
  assert.ok(isTryItWebviewMessage({ type: "ready" }));
  assert.ok(isTryItWebviewMessage({ type: "send", requestId: 1, endpoint: "infer", body: "{}" }));
  for (const bad of [
    null,
    "send",
    { type: "send", requestId: "1", endpoint: "infer", body: "{}" },
    { type: "send", requestId: 1, endpoint: "infer" },
    { type: "fetch" },
  ]) {
    assert.equal(isTryItWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

void test("Try it keeps arrays of plain values on one line without touching strings (#5)", () => {
  const value = {
    shape: [1, 4],
    data: [
      [0, 1],
      [2, 3],
    ],
    words: ["a,   b", "c"],
    nested: { k: [true] },
  };
  const text = compactJson(JSON.stringify(value, null, 2));
  assert.deepEqual(JSON.parse(text), value);
  assert.match(text, /"shape": \[1, 4\]/);
  assert.match(text, /\[0, 1\],\n\s+\[2, 3\]/);
  assert.match(text, /"words": \["a,   b", "c"\]/);
});
