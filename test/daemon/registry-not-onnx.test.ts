/**
 * Registering a run output that is not an ONNX model (a metrics file, random bytes) names the
 * path and a short reason, not the protobuf decoder's internals: exit 2 from the CLI, in process
 * and through a daemon, and 400 over HTTP.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type Database from "better-sqlite3";
import { closeContext, openContext } from "../../daemon/src/context";
import { seedRun } from "../fixtures/onnx";
import { removeDir, runCli, tempDir } from "../helpers";
import { trackingDaemon } from "./tracking-helpers";

const metricsJson = Buffer.from('{"accuracy": 0.91, "loss": 0.23, "f1": 0.88, "auc": 0.95}\n');
// Bytes that are not text and make protobufjs report "index out of range".
const binary = Buffer.from([0x0a, 0x7f, 0x01, 0x02, 0x03, 0x04]);

const textReason =
  /metrics\/train\.json is not an ONNX model \(it is a text file, starting "\{\\"accuracy\\": 0\.91, \\"loss\\": 0\.23, \\"f1\\": 0…"\)\./;
const binaryReason =
  /models\/bad\.onnx is not an ONNX model \(its 6 bytes do not decode as an ONNX ModelProto\)\./;

function seed(db: Database.Database, objectsDir: string): { text: string; bin: string } {
  const text = seedRun(db, objectsDir, metricsJson, { outPath: "metrics/train.json" }).runId;
  const bin = seedRun(db, objectsDir, binary, { outPath: "models/bad.onnx" }).runId;
  return { text, bin };
}

async function assertRefused(root: string, runId: string, path: string, reason: RegExp) {
  const args = ["models", "register", "weather-model", "--from", runId, "--path", path];
  const res = await runCli(args, { cwd: root });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, reason);
  assert.doesNotMatch(res.stderr, /index out of range/);
}

void test("the CLI refuses a run output that is not ONNX with exit 2 and a short reason", async () => {
  const root = await tempDir("lathe-not-onnx-");
  writeFileSync(join(root, "lathe.yaml"), "stages: {}\n");
  const ctx = openContext(root, { quiet: true });
  let runs;
  try {
    runs = seed(ctx.db, ctx.ws.objectsDir);
  } finally {
    closeContext(ctx);
  }

  await assertRefused(root, runs.text, "metrics/train.json", textReason);
  await assertRefused(root, runs.bin, "models/bad.onnx", binaryReason);
  await removeDir(root);
});

void test("POST /api/v1/models/:name/versions answers 400 for an output that is not ONNX", async () => {
  const d = await trackingDaemon("lathe-not-onnx-http-");
  try {
    const runs = seed(d.daemon.ctx.db, d.daemon.ctx.ws.objectsDir);

    const reply = await d.call("POST", "/api/v1/models/weather-model/versions", {
      runId: runs.text,
      path: "metrics/train.json",
    });
    assert.equal(reply.status, 400, reply.text);
    const body = reply.json as { code: string; message: string };
    assert.equal(body.code, "LATHE_BAD_INPUT");
    assert.match(body.message, textReason);

    // The CLI goes through the running daemon and says the same.
    await assertRefused(d.root, runs.bin, "models/bad.onnx", binaryReason);
  } finally {
    await d.close();
  }
});
