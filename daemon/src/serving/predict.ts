/**
 * The plain `/predict` endpoint's translation: JSON records keyed by feature name → one FP32
 * [N,F] tensor in the model's feature order; outputs → one prediction per record, with the class
 * name and per-class probabilities when the model names its labels.
 */
import type { ModelSignature } from "../../../schemas/api";
import { LatheError } from "../errors";
import type { TensorData } from "./protocol";
import { FP32_MAX, jsonValues } from "./tensors";

export type Prediction = Record<string, unknown>;

/** What a model needs for /predict: one FP32 [-1,F] input and its F feature names. */
export function predictInput(signature: ModelSignature): { name: string; features: string[] } {
  const input = signature.inputs[0];
  const features = signature.features;
  const isTabular =
    signature.inputs.length === 1 &&
    input?.datatype === "FP32" &&
    input.shape.length === 2 &&
    features !== undefined &&
    (input.shape[1] === -1 || input.shape[1] === features.length);
  if (!isTabular) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      "This model takes no feature records (it needs one FP32 [N,F] input and 'lathe.features' metadata); use /v2/models/{name}/infer.",
    );
  }
  return { name: input.name, features };
}

/** Reads `{records: [...]}` or a bare array of records into the model's input tensor. */
export function recordsToFeeds(
  body: unknown,
  signature: ModelSignature,
): Record<string, TensorData> {
  const { name, features } = predictInput(signature);
  const records = Array.isArray(body) ? body : isObject(body) ? body.records : undefined;
  if (!Array.isArray(records) || records.length === 0) {
    throw bad(
      `The request body must be {"records": [...]} or an array of records, with at least one record keyed by ${features.join(", ")}.`,
    );
  }

  const data = new Float32Array(records.length * features.length);
  records.forEach((record: unknown, i) => {
    if (!isObject(record)) {
      throw bad(`record ${i} must be an object keyed by ${features.join(", ")}.`);
    }
    for (const key of Object.keys(record)) {
      if (!features.includes(key)) {
        throw bad(`record ${i} has an unknown feature '${key}'; expected ${features.join(", ")}.`);
      }
    }
    features.forEach((feature, j) => {
      const value = record[feature];
      if (value === undefined) {
        throw bad(`record ${i} is missing feature '${feature}'; expected ${features.join(", ")}.`);
      }
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw bad(
          `record ${i} field '${feature}' must be a finite number, got ${JSON.stringify(value)}.`,
        );
      }
      if (Math.abs(value) > FP32_MAX) {
        throw bad(
          `record ${i} field '${feature}' is ${value}, outside FP32's range (±3.4e38) that the model takes.`,
        );
      }
      data[i * features.length + j] = value;
    });
  });
  return { [name]: { type: "float32", dims: [records.length, features.length], data } };
}

/**
 * One prediction per row. With labels, an INT64 `label` output becomes the class name and a
 * [N,K] `probabilities` output a map from class name to probability; other outputs keep their
 * own name with the row's value (a scalar for [N], an array otherwise).
 */
export function toPredictions(
  outputs: Record<string, TensorData>,
  signature: ModelSignature,
  rows: number,
): Prediction[] {
  const labels = signature.labels;
  const predictions: Prediction[] = Array.from({ length: rows }, () => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    const width = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
    const values = jsonValues(tensor);
    predictions.forEach((p, i) => {
      const row = values.slice(i * width, (i + 1) * width);
      if (labels && name === "label" && tensor.dims.length === 1) {
        const index = row[0] as number;
        p.label = labels[index] ?? index;
      } else if (labels && name === "probabilities" && width === labels.length) {
        p.probabilities = Object.fromEntries(labels.map((l, j) => [l, row[j]]));
      } else {
        p[name] = tensor.dims.length === 1 ? row[0] : row;
      }
    });
  }
  // The class name reads first in JSON: `{label, probabilities}` like the records it answers.
  return predictions.map(({ label, ...rest }) => (label === undefined ? rest : { label, ...rest }));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(message: string): LatheError {
  return new LatheError("LATHE_BAD_INPUT", message);
}
