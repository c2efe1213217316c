"use strict";
// Stage "train": multinomial (softmax) logistic regression with L2, full-batch gradient descent,
// in plain Node. Features are standardized with the training mean/std. Exports models/weather.onnx:
//   features FLOAT [N,4] -> Sub(mean) -> Div(std) -> MatMul(W) -> Add(b) -> Softmax(axis=1)
//     = probabilities FLOAT [N,K];  ArgMax(probabilities, axis=1, keepdims=0) = label INT64 [N]
// Deterministic: seeded initialization, fixed iteration order, no wall-clock data in the model.
const fs = require("node:fs");
const path = require("node:path");
const { onnx } = require("onnx-proto");
const { FEATURES, readParams, readCsv, writeJson, featuresAndLabels, round } = require("./common");

const params = readParams().train || {};
const epochs = Number(params.epochs ?? 500);
const lr = Number(params.lr ?? 1.0);
const l2 = Number(params.l2 ?? 0.001);
const seed = Number(params.seed ?? 7);
const logEvery = Math.max(1, Math.floor(epochs / 10));

// ---- data ------------------------------------------------------------------------------------
const { X: rawX, y: rawY } = featuresAndLabels(readCsv("data/prepared/train.csv"));
const labels = [...new Set(rawY)].sort();
const n = rawX.length;
const d = FEATURES.length;
const k = labels.length;
const yIdx = rawY.map((v) => labels.indexOf(v));

// Statistics in float32, as the model will use them.
const f32 = (x) => Math.fround(x);
const mean = FEATURES.map((_, j) => f32(rawX.reduce((s, r) => s + r[j], 0) / n));
const std = FEATURES.map((_, j) => {
  const v = rawX.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n;
  return f32(Math.sqrt(v) || 1);
});
const X = rawX.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));

// ---- model -----------------------------------------------------------------------------------
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(seed);
const W = Array.from({ length: d }, () => Array.from({ length: k }, () => (rand() - 0.5) * 0.02));
const b = new Array(k).fill(0);

function softmaxRow(x) {
  const z = b.slice();
  for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) z[c] += x[j] * W[j][c];
  const m = Math.max(...z);
  let s = 0;
  for (let c = 0; c < k; c++) s += z[c] = Math.exp(z[c] - m);
  for (let c = 0; c < k; c++) z[c] /= s;
  return z;
}

function argmax(p) {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

/** One pass over the data: loss, accuracy and (optionally) the gradients. */
function evaluate(withGrad) {
  const gW = withGrad ? Array.from({ length: d }, () => new Array(k).fill(0)) : null;
  const gb = withGrad ? new Array(k).fill(0) : null;
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const p = softmaxRow(X[i]);
    loss -= Math.log(Math.max(p[yIdx[i]], 1e-12));
    if (argmax(p) === yIdx[i]) correct++;
    if (withGrad) {
      p[yIdx[i]] -= 1;
      for (let c = 0; c < k; c++) {
        gb[c] += p[c];
        for (let j = 0; j < d; j++) gW[j][c] += X[i][j] * p[c];
      }
    }
  }
  let reg = 0;
  for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) reg += W[j][c] ** 2;
  return { loss: loss / n + (l2 / 2) * reg, accuracy: correct / n, gW, gb };
}

// ---- training ----------------------------------------------------------------------------------
fs.mkdirSync("metrics", { recursive: true });
const historyFile = "metrics/train_history.csv";
fs.writeFileSync(historyFile, "epoch,loss,accuracy\n");
console.log(`training on ${n} rows, ${d} features, ${k} classes (${labels.join(", ")})`);
for (let epoch = 1; epoch <= epochs; epoch++) {
  const { loss, accuracy, gW, gb } = evaluate(true);
  for (let j = 0; j < d; j++)
    for (let c = 0; c < k; c++) W[j][c] -= lr * (gW[j][c] / n + l2 * W[j][c]);
  for (let c = 0; c < k; c++) b[c] -= lr * (gb[c] / n);
  // Row `e` holds the metrics of the weights after e epochs (row 0: the initial weights), so the
  // final metrics below are step `epochs` of the same curves.
  fs.appendFileSync(historyFile, `${epoch - 1},${round(loss)},${round(accuracy)}\n`);
  if (epoch === 1 || epoch % logEvery === 0 || epoch === epochs) {
    console.log(`epoch ${epoch}/${epochs} loss=${loss.toFixed(4)} accuracy=${accuracy.toFixed(4)}`);
  }
}
const final = evaluate(false);
writeJson("metrics/train.json", {
  step: epochs,
  loss: round(final.loss),
  accuracy: round(final.accuracy),
});
console.log(`final: loss=${final.loss.toFixed(4)} accuracy=${final.accuracy.toFixed(4)}`);

// ---- ONNX export -------------------------------------------------------------------------------
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function floatTensor(name, dims, values) {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return { name, dims, dataType: FLOAT, rawData: buf };
}
function valueInfo(name, elemType, dims) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((x) => (typeof x === "string" ? { dimParam: x } : { dimValue: x })),
        },
      },
    },
  };
}
const intAttr = (name, i) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

const model = {
  irVersion: 8,
  opsetImport: [{ domain: "", version: 13 }],
  producerName: "lathe-example",
  producerVersion: "1",
  docString:
    "Seattle weather type from daily precipitation, temperatures and wind (softmax regression).",
  graph: {
    name: "weather",
    initializer: [
      floatTensor("mean", [d], mean),
      floatTensor("std", [d], std),
      floatTensor("W", [d, k], W.flat()),
      floatTensor("b", [k], b),
    ],
    node: [
      { opType: "Sub", input: ["features", "mean"], output: ["centered"], name: "standardize_sub" },
      { opType: "Div", input: ["centered", "std"], output: ["scaled"], name: "standardize_div" },
      { opType: "MatMul", input: ["scaled", "W"], output: ["xw"], name: "matmul" },
      { opType: "Add", input: ["xw", "b"], output: ["logits"], name: "bias" },
      {
        opType: "Softmax",
        input: ["logits"],
        output: ["probabilities"],
        name: "softmax",
        attribute: [intAttr("axis", 1)],
      },
      {
        opType: "ArgMax",
        input: ["probabilities"],
        output: ["label"],
        name: "argmax",
        attribute: [intAttr("axis", 1), intAttr("keepdims", 0)],
      },
    ],
    input: [valueInfo("features", FLOAT, ["N", d])],
    output: [valueInfo("probabilities", FLOAT, ["N", k]), valueInfo("label", INT64, ["N"])],
  },
  metadataProps: [
    { key: "lathe.features", value: JSON.stringify(FEATURES) },
    { key: "lathe.labels", value: JSON.stringify(labels) },
  ],
};
const err = onnx.ModelProto.verify(model);
if (err) throw new Error(`invalid ONNX model: ${err}`);
const bytes = onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
fs.mkdirSync("models", { recursive: true });
fs.writeFileSync(path.join("models", "weather.onnx"), bytes);
console.log(`wrote models/weather.onnx (${bytes.length} bytes)`);
