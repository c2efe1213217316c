// Serving throughput and latency (issue #5), all on loopback in one run:
//   1. raw: onnxruntime-node session.run in this process, one thread, at the batch size the
//      server reached under load (rows/s): the ceiling;
//   2. the deployment at 64 concurrent autocannon clients, one row per request, batching on;
//   3. the same with batching off (maxBatchRows 1);
//   4. p50/p99 latency at low load (1 client), batching on;
//   5. the HTTP floor: a bare node:http server (parse the JSON, answer a constant) at 64 clients.
// Goals: (2) ≥ 0.7 × (1) and (2) ≥ 3 × (3). The model is an MLP (features → hidden → hidden → 10,
// Gemm + Relu) so inference, not HTTP, is the work; `--hidden 16` shows the opposite case.
// Run: node scripts/build.mjs && node --import tsx bench/serving.ts [--hidden 2048] [--seconds 10]
//      [--rounds 5]   (or npm run bench:serving -- --seconds 3)
import autocannon from "autocannon";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import type { Deployment, ModelVersion } from "../schemas/api";
import { seedRun } from "../test/fixtures/onnx";
import { daemonIn, removeDir, tempDir } from "../test/helpers";

const { values } = parseArgs({
  options: {
    hidden: { type: "string", default: "2048" },
    features: { type: "string", default: "64" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    rounds: { type: "string", default: "5" },
  },
});
const HIDDEN = Number(values.hidden);
const FEATURES = Number(values.features);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const ROUNDS = Number(values.rounds);

function mlp(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const layer = (name: string, rows: number, cols: number): onnx.ITensorProto[] => [
    {
      name: `${name}_w`,
      dataType: FLOAT,
      dims: [rows, cols],
      floatData: Array.from({ length: rows * cols }, (_, i) => Math.sin(i) / Math.sqrt(rows)),
    },
    {
      name: `${name}_b`,
      dataType: FLOAT,
      dims: [cols],
      floatData: Array.from({ length: cols }, (_, i) => Math.cos(i) / 10),
    },
  ];
  const gemm = (name: string, input: string, output: string): onnx.INodeProto => ({
    opType: "Gemm",
    name,
    input: [input, `${name}_w`, `${name}_b`],
    output: [output],
  });
  const info = (name: string, dims: (string | number)[]): onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })),
        },
      },
    },
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "bench_mlp",
      initializer: [
        ...layer("l1", FEATURES, HIDDEN),
        ...layer("l2", HIDDEN, HIDDEN),
        ...layer("l3", HIDDEN, 10),
      ],
      node: [
        gemm("l1", "features", "h1"),
        { opType: "Relu", name: "r1", input: ["h1"], output: ["a1"] },
        gemm("l2", "a1", "h2"),
        { opType: "Relu", name: "r2", input: ["h2"], output: ["a2"] },
        gemm("l3", "a2", "scores"),
      ],
      input: [info("features", ["N", FEATURES])],
      output: [info("scores", ["N", 10])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

async function rawRowsPerSecond(bytes: Uint8Array, batch: number): Promise<number> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const data = Float32Array.from({ length: batch * FEATURES }, (_, i) => (i % 7) / 7);
  const feeds = { features: new ort.Tensor("float32", data, [batch, FEATURES]) };
  for (let i = 0; i < 5; i++) {
    await session.run(feeds);
  }
  let rows = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    await session.run(feeds);
    rows += batch;
  }
  const rate = rows / ((performance.now() - started) / 1000);
  await session.release();
  return rate;
}

function load(url: string, token: string, connections: number): Promise<autocannon.Result> {
  const body = JSON.stringify({
    inputs: [
      {
        name: "features",
        shape: [1, FEATURES],
        datatype: "FP32",
        data: Array.from({ length: FEATURES }, (_, i) => (i % 7) / 7),
      },
    ],
  });
  return autocannon({
    url: `${url}/v2/models/bench/infer`,
    method: "POST",
    connections,
    duration: SECONDS,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body,
  });
}

/**
 * The HTTP floor: a bare node:http server in its own process that reads each body, parses it as
 * JSON and answers a constant OIP reply, with no checks, queue or inference. What it serves at 64
 * clients bounds what any Node server of one HTTP thread can serve on this machine.
 */
async function startHttpFloor(): Promise<{ url: string; stop(): void }> {
  const script = `
    const http = require("node:http");
    const reply = JSON.stringify({ model_name: "bench", outputs: [{ name: "scores", shape: [1, 10],
      datatype: "FP32", data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }] });
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        JSON.parse(Buffer.concat(chunks).toString("utf8"));
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(reply) });
        res.end(reply);
      });
    });
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once("exit", (code) => reject(new Error(`the HTTP floor server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

async function meanBatch(url: string, token: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` } })
  ).text();
  const sum = Number(/lathe_serving_batch_rows_sum\{version="\d+"\} ([\d.e+]+)/.exec(text)?.[1]);
  const count = Number(/lathe_serving_batch_rows_count\{version="\d+"\} (\d+)/.exec(text)?.[1]);
  return sum / count;
}

async function main(): Promise<void> {
  const root = await tempDir("lathe-bench-serving-");
  const daemon = await daemonIn(root);
  try {
    const bytes = mlp();
    const run = seedRun(daemon.ctx.db, daemon.ctx.ws.objectsDir, bytes, {
      outPath: "models/bench.onnx",
    });
    await daemon.client.call<ModelVersion>("POST", "/api/v1/models/bench/versions", {
      runId: run.runId,
    });
    const token = daemon.info.token;
    const deployTo = (options: object) =>
      daemon.client.call<Deployment>("POST", "/api/v1/deployments", { model: "bench", ...options });
    const batching = { maxBatchRows: 64, maxDelayMs: 2 };
    const url = (await deployTo(batching)).url!;
    await load(url, token, CONNECTIONS); // warm-up, and the batch size the load reaches
    const batch = Math.max(1, Math.round(await meanBatch(url, token)));

    // The machine is shared and its load drifts: interleave the three measurements in rounds
    // and compare medians, so a busy moment hits all three rather than one.
    const on: autocannon.Result[] = [];
    const off: autocannon.Result[] = [];
    const raw: number[] = [];
    const low: autocannon.Result[] = [];
    const bare: autocannon.Result[] = [];
    const floor = await startHttpFloor();
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await load(floor.url, token, CONNECTIONS));
      await deployTo(batching);
      on.push(await load(url, token, CONNECTIONS));
      low.push(await load(url, token, 1));
      await deployTo({ maxBatchRows: 1, maxDelayMs: 0 });
      off.push(await load(url, token, CONNECTIONS));
      raw.push(await rawRowsPerSecond(bytes, batch));
    }
    floor.stop();

    const served = median(on.map((r) => r.requests.average));
    const unbatched = median(off.map((r) => r.requests.average));
    const ceiling = median(raw);
    const httpFloor = median(bare.map((r) => r.requests.average));
    console.log(
      `model: MLP ${FEATURES}→${HIDDEN}→${HIDDEN}→10; ${ROUNDS} rounds of ${SECONDS} s per measurement; ${CONNECTIONS} connections; medians`,
    );
    console.log(
      `batching on, ${CONNECTIONS} clients:  ${served.toFixed(0)} req/s  (rounds: ${on.map((r) => r.requests.average.toFixed(0)).join(", ")})`,
    );
    console.log(
      `batching off, ${CONNECTIONS} clients: ${unbatched.toFixed(0)} req/s  (rounds: ${off.map((r) => r.requests.average.toFixed(0)).join(", ")})`,
    );
    console.log(
      `raw session.run at batch ${batch}: ${ceiling.toFixed(0)} rows/s  (rounds: ${raw.map((r) => r.toFixed(0)).join(", ")})`,
    );
    console.log(
      `bare node:http, JSON parse, constant reply, ${CONNECTIONS} clients: ${httpFloor.toFixed(0)} req/s  (rounds: ${bare.map((r) => r.requests.average.toFixed(0)).join(", ")})`,
    );
    console.log(
      `1 client, batching on: p50 ${median(low.map((r) => r.latency.p50))} ms, p99 ${median(low.map((r) => r.latency.p99))} ms`,
    );
    console.log(`errors: ${[...on, ...off, ...low].reduce((n, r) => n + r.errors + r.non2xx, 0)}`);
    console.log(`ratio served/raw: ${(served / ceiling).toFixed(2)} (goal ≥ 0.7)`);
    console.log(
      `ratio served/bare HTTP: ${(served / httpFloor).toFixed(2)} (what Lathe keeps of a server that does nothing)`,
    );
    console.log(`ratio batching on/off: ${(served / unbatched).toFixed(2)} (goal ≥ 3)`);
  } finally {
    await daemon.close();
    await removeDir(root);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

void main();
