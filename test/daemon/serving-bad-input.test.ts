import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { linearSoftmaxModel } from "../fixtures/onnx";
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

void describe("a worker refuses bad input by name and never crashes on it (#5)", () => {
  let root: string;
  let daemon: TestDaemon;
  let weather: ReturnType<typeof workerClient>;
  let mixed: ReturnType<typeof workerClient>;
  let pids: number[];

  before(async () => {
    root = await tempDir();
    daemon = await daemonIn(root);
    await registerVersions(daemon, "weather", [linearSoftmaxModel()]);
    await registerVersions(daemon, "mixed", [mixedTypesModel()]);
    const deployments = [
      await deploy(daemon, { model: "weather" }),
      await deploy(daemon, { model: "mixed" }),
    ];
    weather = workerClient(daemon, deployments[0]!.port!);
    mixed = workerClient(daemon, deployments[1]!.port!);
    pids = deployments.map((d) => d.pid!);
  });

  after(async () => {
    await daemon.close();
    await removeDir(root);
  });

  const infer = (inputs: unknown) => mixed("POST", "/v2/models/mixed/infer", { inputs });
  const good = {
    x: { name: "x", shape: [1, 2], datatype: "FP64", data: [1, 2] },
    n: { name: "n", shape: [1], datatype: "INT64", data: [1] },
    flag: { name: "flag", shape: [1], datatype: "BOOL", data: [true] },
  };

  void test("rows that disagree on the batch dimension are a 400 naming both inputs", async () => {
    const answer = await infer([good.x, { ...good.n, shape: [2], data: [1, 2] }, good.flag]);
    assert.equal(answer.status, 400);
    assert.equal(
      answer.json.error,
      "input 'n' has 2 rows but input 'x' has 1; all inputs must agree on the batch dimension (the first).",
    );
  });

  void test("wrong types, a missing input and out-of-range integers are 400s naming the input", async () => {
    const cases: [unknown, RegExp][] = [
      [
        [{ ...good.x, data: ["a", 2] }, good.n, good.flag],
        /input 'x' value 0 \("a"\) is not a finite number/,
      ],
      [
        [good.x, good.n, { ...good.flag, data: [1] }],
        /input 'flag' value 0 \(1\) is not true or false/,
      ],
      [
        [good.x, { ...good.n, data: [1.5] }, good.flag],
        /input 'n' value 0 \(1.5\) is not an integer/,
      ],
      [[good.x, good.flag], /missing input 'n'; the model's inputs are x, n, flag/],
      [[good.x, good.n, good.flag, { ...good.n, name: "z" }], /unknown input 'z'/],
      ["inputs", /must be a JSON object with an 'inputs' array/],
    ];
    for (const [inputs, message] of cases) {
      const answer = await infer(inputs);
      assert.equal(answer.status, 400, JSON.stringify(inputs));
      assert.match(answer.json.error as string, message);
    }
  });

  void test("huge shapes, deep nesting, NaN, invalid JSON and a wrong content type are refused", async () => {
    const huge = await infer([{ ...good.x, shape: [1e9, 2] }, good.n, good.flag]);
    assert.equal(huge.status, 400);
    assert.match(
      huge.json.error as string,
      /input 'x' has shape \[1000000000,2\], over \d+ values/,
    );

    // Built as text: JSON.stringify itself would overflow the stack on the deepest one.
    const nestedBody = (depth: number) =>
      `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": ${"[".repeat(depth)}1${"]".repeat(depth)}}, ${JSON.stringify(good.n)}, ${JSON.stringify(good.flag)}]}`;
    const nested = await mixed("POST", "/v2/models/mixed/infer", nestedBody(500));
    assert.equal(nested.status, 400);
    assert.match(
      nested.json.error as string,
      /input 'x' has 'data' nested deeper than its shape's 2 dimensions/,
    );
    const deepest = await mixed("POST", "/v2/models/mixed/infer", nestedBody(2_000_000));
    assert.equal(deepest.status, 400, deepest.text);

    const overflow = await mixed(
      "POST",
      "/v2/models/mixed/infer",
      `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1e999, 2]}, ${JSON.stringify(good.n)}, ${JSON.stringify(good.flag)}]}`,
    );
    assert.equal(overflow.status, 400);
    assert.equal(overflow.json.error, "input 'x' value 0 (Infinity) is not a finite number.");

    // A finite JSON number too large for FP32 would become Infinity in the model's input.
    const tooBig = [
      await weather("POST", "/v2/models/weather/infer", {
        inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1e300, 1, 2, 3] }],
      }),
      await weather("POST", "/predict", {
        records: [{ precipitation: 1e39, temp_max: 1, temp_min: 2, wind: 3 }],
      }),
      await weather("POST", "/invocations", "precipitation,temp_max,temp_min,wind\n1e39,1,2,3", {
        "Content-Type": "text/csv",
      }),
    ];
    assert.deepEqual(
      tooBig.map((r) => [r.status, /FP32's range \(±3\.4e38\)/.test(r.json.error as string)]),
      [
        [400, true],
        [400, true],
        [400, true],
      ],
      JSON.stringify(tooBig.map((r) => r.json)),
    );

    // JSON has no NaN: a client that writes one sends invalid JSON, and gets told so.
    const nan = await mixed("POST", "/v2/models/mixed/infer", '{"inputs": [{"data": [NaN]}]}');
    assert.equal(nan.status, 400);
    assert.match(nan.json.error as string, /Request body is not JSON/);
    const csvNan = await weather(
      "POST",
      "/invocations",
      "precipitation,temp_max,temp_min,wind\nNaN,1,2,3",
      { "Content-Type": "text/csv" },
    );
    assert.equal(csvNan.status, 400);
    assert.match(
      csvNan.json.error as string,
      /row 0 column 'precipitation' must be a finite number \(FP32\), got "NaN"/,
    );

    const text = await weather("POST", "/predict", "{}", { "Content-Type": "text/plain" });
    assert.equal(text.status, 415);
    assert.match(
      text.json.error as string,
      /Content-Type 'text\/plain' is not supported here; send application\/json/,
    );
    const noType = await weather("POST", "/invocations", "{}", { "Content-Type": "" });
    assert.equal(noType.status, 415);
  });

  void test("MLflow bodies with no format, two formats, params or ragged rows are 400s", async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /exactly one of dataframe_split, dataframe_records, instances, inputs; it has 0/],
      [{ instances: weatherRows, inputs: weatherRows }, /it has 2/],
      [
        { inputs: weatherRows, params: { temperature: 0.5 } },
        /^params 'temperature' is not a parameter this model takes: Lathe's ONNX models take no params; send \{\} or leave 'params' out\.$/,
      ],
      [
        { inputs: weatherRows, params: [1] },
        /^'params' must be an object of parameter names to values, got \[1\]; this model takes no params/,
      ],
      [
        { inputs: weatherRows, extra: true },
        /^Unknown field 'extra'; expected exactly one of dataframe_split, dataframe_records, instances, inputs, and optionally params\.$/,
      ],
      [
        { dataframe_records: [weatherRecords[0], { ...weatherRecords[1], wind: undefined }] },
        /^row 1 has no value in column 'wind' \(FP32\); give every row one\.$/,
      ],
      [
        { instances: [{ features: weatherRows[0] }, weatherRows[1]] },
        /^instances\[1\] is not an object; send every instance as an object keyed by input name, or every one as an array\.$/,
      ],
      [
        { instances: [{ features: weatherRows[0], extra: 1 }] },
        /^instances\[0\] has unknown input 'extra'; the model's inputs are features\.$/,
      ],
      [{ dataframe_split: { columns: ["wind"], data: [[1]] } }, /missing column 'precipitation'/],
      [
        { dataframe_records: [{ rain: 1 }] },
        /unknown column 'rain'; expected precipitation, temp_max, temp_min, wind/,
      ],
      [
        {
          instances: [
            [1, 2, 3, 4],
            [1, 2],
          ],
        },
        /input 'features' has shape \[2,4\]|has 6 values; shape \[2,4\] needs 8/,
      ],
      [
        { instances: [[1, 2, 3]] },
        /input 'features' has shape \[1,3\]; the model expects \[-1,4\]/,
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await weather("POST", "/invocations", body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.match(answer.json.error as string, message);
    }

    const row = { x: [1, 2], n: 1, flag: true };
    const missing = await mixed("POST", "/invocations", {
      instances: [row, { x: [3, 4], n: 2 }],
    });
    assert.equal(missing.status, 400);
    assert.equal(
      missing.json.error,
      "instances[1] is missing input 'flag'; each instance needs x, n, flag.",
    );
  });

  void test("a client that hangs up mid-body is counted as a 400, not a worker error", async () => {
    const port = Number(
      new URL((await daemon.client.call<{ url: string }>("GET", "/api/v1/deployments/weather")).url)
        .port,
    );
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          `POST /predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${daemon.info.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"records": [`,
          () => setTimeout(() => socket.destroy(), 100),
        );
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    let metrics = "";
    for (let i = 0; i < 50 && !/endpoint="predict",status="400"/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 20));
      metrics = (await weather("GET", "/metrics")).text;
    }
    assert.match(
      metrics,
      /lathe_serving_requests_total\{endpoint="predict",status="400",version=""\} 1/,
    );
    assert.doesNotMatch(metrics, /status="500"/);
  });

  void test("a body over the limit is a 413, and both workers still serve after all of the above", async () => {
    const big = `[${"1,".repeat(4.5 * 1024 * 1024)}1]`;
    assert.equal((await weather("POST", "/invocations", big)).status, 413);
    assert.equal((await mixed("POST", "/v2/models/mixed/infer", big)).status, 413);

    const deployments = await daemon.client.call<{ name: string; pid: number; state: string }[]>(
      "GET",
      "/api/v1/deployments",
    );
    assert.deepEqual(
      deployments.map((d) => [d.name, d.pid, d.state]),
      [
        ["mixed", pids[1], "ready"],
        ["weather", pids[0], "ready"],
      ],
    );
    const ok = await infer([good.x, good.n, good.flag]);
    assert.equal(ok.status, 200, ok.text);
  });
});

void test("a full queue answers 503 and the requests it took still succeed (#5)", async () => {
  const root = await tempDir();
  const daemon = await daemonIn(root);
  try {
    await registerVersions(daemon, "weather", [linearSoftmaxModel()]);
    // One queued request at most, held 300 ms waiting for company: the rest find it full.
    const deployment = await deploy(daemon, { model: "weather", maxQueue: 1, maxDelayMs: 300 });
    assert.deepEqual(deployment.options, { maxBatchRows: 64, maxDelayMs: 300, maxQueue: 1 });
    const worker = workerClient(daemon, deployment.port!);
    const body = {
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
    };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => worker("POST", "/v2/models/weather/infer", body, {}, false)),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 503).length, 5);
    const metrics = (await worker("GET", "/metrics")).text;
    assert.match(
      metrics,
      /lathe_serving_requests_total\{endpoint="infer",status="503",version="1"\} 5/,
    );
    assert.match(
      answers.find((a) => a.status === 503)!.json.error as string,
      /The model is busy \(1 requests queued, the deployment's maxQueue\); retry shortly\./,
    );
  } finally {
    await daemon.close();
    await removeDir(root);
  }
});
