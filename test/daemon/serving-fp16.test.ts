/**
 * FP16 models served for real (#5): JSON numbers in, rounded to halves for onnxruntime, and half
 * outputs back as numbers, over OIP, MLflow's /invocations and /predict. BF16, which
 * onnxruntime-node cannot pass, is refused at deploy.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { onnx } from "onnx-proto";
import { fromHalfBits, toHalfBits } from "../../daemon/src/serving/half";
import {
  bfloat16InputModel,
  bfloat16OutputModel,
  castModel,
  halfAddModel,
  halfBias,
  halfScoresModel,
} from "../fixtures/onnx-half";
import { daemonIn, removeDir, runCli, tempDir } from "../helpers";
import {
  deploy,
  registerVersions,
  send,
  weatherRecords,
  weatherRows,
  workerClient,
  type TestDaemon,
} from "./serving-helpers";

// The worker runs from dist/: `node scripts/build.mjs --quiet` first.

/** The half nearest `value`, as a number. */
const half = (value: number) => fromHalfBits(toHalfBits(value));

const rows = [
  [1, 0.1, 65504],
  [-0.5, 1e-7, 3.14159],
];
/** What `halfAddModel` gives: the input rounded to halves, and their sum with the bias rounded. */
const expectedX32 = rows.flat().map(half);
const expectedY = rows.flatMap((row) => row.map((v, j) => half(half(v) + halfBias[j]!)));

void describe("FP16 models are served over every protocol, values rounded to halves (#5)", () => {
  let root: string;
  let daemon: TestDaemon;
  let adder: ReturnType<typeof workerClient>;
  let scores: ReturnType<typeof workerClient>;
  let cast: ReturnType<typeof workerClient>;

  before(async () => {
    root = await tempDir();
    daemon = await daemonIn(root);
    const { FLOAT16, FLOAT } = onnx.TensorProto.DataType;
    await registerVersions(daemon, "adder", [halfAddModel()]);
    await registerVersions(daemon, "scores", [halfScoresModel()]);
    await registerVersions(daemon, "cast", [castModel(FLOAT16, FLOAT)]);
    adder = workerClient(daemon, (await deploy(daemon, { model: "adder" })).port!);
    scores = workerClient(daemon, (await deploy(daemon, { model: "scores" })).port!);
    cast = workerClient(daemon, (await deploy(daemon, { model: "cast" })).port!);
  });

  after(async () => {
    await daemon.close();
    await removeDir(root);
  });

  void test("OIP takes FP16 data as numbers and answers FP16 outputs as numbers", async () => {
    const meta = await adder("GET", "/v2/models/adder");
    assert.deepEqual(meta.json.inputs, [{ name: "x", datatype: "FP16", shape: [-1, 3] }]);

    const answer = await adder("POST", "/v2/models/adder/infer", {
      inputs: [{ name: "x", shape: [2, 3], datatype: "FP16", data: rows }],
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.outputs, [
      { name: "y", shape: [2, 3], datatype: "FP16", data: expectedY },
      { name: "x32", shape: [2, 3], datatype: "FP32", data: expectedX32 },
    ]);
    // By hand, for the values whose rounding matters: 0.1 is not a half, 1e-7 is a subnormal,
    // and 65504 - 2 rounds back up to the largest half.
    assert.deepEqual(expectedX32, [1, 0.0999755859375, 65504, -0.5, 2 * 2 ** -24, 3.140625]);
    assert.deepEqual(expectedY, [2, 0.60009765625, 65504, 0.5, 0.5, 1.140625]);
  });

  void test("MLflow /invocations takes FP16 tensors and dataframe columns, and answers numbers", async () => {
    const inputs = await adder("POST", "/invocations", { inputs: { x: rows } });
    assert.equal(inputs.status, 200, inputs.text);
    const nest = (flat: number[]) => [flat.slice(0, 3), flat.slice(3)];
    assert.deepEqual(inputs.json.predictions, { y: nest(expectedY), x32: nest(expectedX32) });
    const instances = await adder("POST", "/invocations", { instances: rows });
    assert.deepEqual(instances.json, inputs.json);

    const column = await cast("POST", "/invocations", {
      dataframe_split: { columns: ["x"], data: [[0.1], [35000]] },
    });
    assert.equal(column.status, 200, column.text);
    assert.deepEqual(column.json.predictions, [{ y: 0.0999755859375 }, { y: 35008 }]);
    const csv = await cast("POST", "/invocations", "x\n0.1\n", { "Content-Type": "text/csv" });
    assert.deepEqual(csv.json.predictions, [{ y: 0.0999755859375 }]);

    const records = await scores("POST", "/invocations", { dataframe_records: weatherRecords });
    assert.equal(records.status, 200, records.text);
    assert.deepEqual(records.json.predictions, expectedScores());
  });

  void test("/predict answers a tabular model's FP16 outputs as numbers", async () => {
    const answer = await scores("POST", "/predict", { records: weatherRecords });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.predictions, expectedScores());
    assert.equal(expectedScores()[0]!.half[1], 12.796875, "12.8 as the nearest half");
  });

  void test("FP16 values beyond ±65504 or not numbers are 400s naming the input, row and column", async () => {
    const cases: [ReturnType<typeof workerClient>, string, unknown, string][] = [
      [
        adder,
        "/v2/models/adder/infer",
        { inputs: [{ name: "x", shape: [1, 3], datatype: "FP16", data: [1, 2, 70000] }] },
        "input 'x' value 2 (70000) is not within FP16's range (±65504).",
      ],
      [
        adder,
        "/invocations",
        { inputs: { x: [[1, "2", 3]] } },
        "input 'x' value 1 (\"2\") is not a finite number.",
      ],
      [
        cast,
        "/invocations",
        { dataframe_split: { columns: ["x"], data: [[1], [-70000]] } },
        "row 1 column 'x' is -70000, outside FP16's range (±65504) that the model takes.",
      ],
    ];
    for (const [worker, path, body, error] of cases) {
      const answer = await worker("POST", path, body);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json.error, error);
    }
  });

  void test("a BF16 input or output is refused at deploy with 400 / exit 2, naming it (#5)", async () => {
    await registerVersions(daemon, "bf16in", [bfloat16InputModel()]);
    await registerVersions(daemon, "bf16out", [bfloat16OutputModel()]);

    const refused = await send(daemon.info.port, "POST", "/api/v1/deployments", {
      headers: { Authorization: `Bearer ${daemon.info.token}` },
      body: { model: "bf16in" },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(
      refused.json.message,
      "bf16in@1 cannot be served: its input 'x' has datatype BF16, which onnxruntime-node cannot pass in or out of a model. Export the model with FP16 or FP32 inputs (Casts inside the graph may keep BF16 in between).",
    );
    const listed = await daemon.client.call<{ name: string }[]>("GET", "/api/v1/deployments");
    assert.ok(!listed.some((d) => d.name === "bf16in"), "no deployment was recorded");

    const cli = await runCli(["deploy", "bf16out"], { cwd: root });
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /bf16out@1 cannot be served: its output 'y' has datatype BF16/);
  });
});

/** What `halfScoresModel` gives per weather record: its features as halves, and doubled. */
function expectedScores() {
  return weatherRows.map((row) => {
    const halves = row.map((v) => half(Math.fround(v)));
    return { half: halves, doubled: halves.map((h) => 2 * h) };
  });
}
