"use strict";
// Stage "evaluate": scores data/prepared/test.csv with models/weather.onnx in onnxruntime-node and
// writes metrics/eval.json (accuracy, macro F1, majority-class baseline) and metrics/confusion.json.
const fs = require("node:fs");
const ort = require("onnxruntime-node");
const { onnx } = require("onnx-proto");
const { readCsv, writeJson, featuresAndLabels, round } = require("./common");

const MODEL = "models/weather.onnx";

async function main() {
  // Class names and feature order come from the model's own metadata (as Lathe's server reads them).
  const proto = onnx.ModelProto.decode(fs.readFileSync(MODEL));
  const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
  const labels = JSON.parse(meta["lathe.labels"]);
  const features = JSON.parse(meta["lathe.features"]);

  const rows = readCsv("data/prepared/test.csv");
  const { X, y } = featuresAndLabels(rows);
  const n = X.length;
  const data = new Float32Array(n * features.length);
  rows.forEach((r, i) =>
    features.forEach((f, j) => (data[i * features.length + j] = Number(r[f]))),
  );

  const session = await ort.InferenceSession.create(MODEL, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const out = await session.run({
    features: new ort.Tensor("float32", data, [n, features.length]),
  });
  const predicted = Array.from(out.label.data, (v) => labels[Number(v)]);
  await session.release();

  // Confusion matrix over the model's classes (rows: actual, columns: predicted). Test labels the
  // model never saw get their own rows so nothing is silently dropped.
  const classes = [...labels, ...[...new Set(y)].filter((c) => !labels.includes(c)).sort()];
  const index = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => new Array(classes.length).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    matrix[index.get(y[i])][index.get(predicted[i])]++;
    if (y[i] === predicted[i]) correct++;
  }

  // Macro F1, as scikit-learn's f1_score(average="macro") with default labels: the average over the
  // classes that occur in the test labels OR the predictions. A class absent from both (e.g. "snow"
  // in Seattle 2015, if never predicted) is left out; a class predicted but absent from the test
  // labels counts with F1 = 0; precision or recall with a zero denominator counts as 0.
  const perClass = {};
  const f1s = [];
  classes.forEach((c, ci) => {
    const tp = matrix[ci][ci];
    const actual = matrix[ci].reduce((s, v) => s + v, 0);
    const pred = matrix.reduce((s, row) => s + row[ci], 0);
    if (actual === 0 && pred === 0) return;
    const precision = pred ? tp / pred : 0;
    const recall = actual ? tp / actual : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    f1s.push(f1);
    perClass[c] = {
      precision: round(precision),
      recall: round(recall),
      f1: round(f1),
      support: actual,
    };
  });

  // Majority-class baseline: always predict the most frequent class of the test split.
  const counts = new Map();
  for (const c of y) counts.set(c, (counts.get(c) ?? 0) + 1);
  const [majority, majorityCount] = [...counts].sort(
    (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1),
  )[0];

  const accuracy = correct / n;
  const f1Macro = f1s.reduce((s, v) => s + v, 0) / f1s.length;
  const baseline = majorityCount / n;
  writeJson("metrics/eval.json", {
    accuracy: round(accuracy),
    f1_macro: round(f1Macro),
    baseline_accuracy: round(baseline),
    n_test: n,
  });
  writeJson("metrics/confusion.json", { labels: classes, matrix, per_class: perClass });

  console.log(`test rows: ${n}`);
  console.log(
    `accuracy: ${accuracy.toFixed(4)} (majority baseline "${majority}": ${baseline.toFixed(4)})`,
  );
  console.log(`macro F1: ${f1Macro.toFixed(4)}`);
  console.log(`confusion (rows actual, columns predicted; ${classes.join(", ")}):`);
  matrix.forEach((row, i) =>
    console.log(`  ${classes[i].padEnd(8)} ${row.map((v) => String(v).padStart(4)).join("")}`),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
