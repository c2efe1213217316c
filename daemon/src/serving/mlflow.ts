/**
 * MLflow's scoring protocol (`POST /invocations`), as `mlflow models serve` answers it: a JSON
 * body with exactly one of `dataframe_split`, `dataframe_records`, `instances` or `inputs` (and
 * optionally `params`, which Lathe's models take none of), or a CSV body with a header row.
 * Dataframes feed a tabular model by feature name (or one column per model input); tensors feed
 * inputs by position or name, `instances` also as one object per row. The answer is
 * `{"predictions": ...}`: one record per row for a dataframe, the output tensor(s) as nested lists
 * otherwise.
 */
import type { ModelSignature, ModelSignatureTensor } from "../../../schemas/api";
import { LatheError } from "../errors";
import { parseCsv } from "./csv";
import { FP16_MAX } from "./half";
import { predictInput } from "./predict";
import type { TensorData } from "./protocol";
import { checkComplete, jsonValues, toTensorData, FP32_MAX } from "./tensors";

export type InvocationKind = "dataframe" | "tensor";

export interface Invocation {
  kind: InvocationKind;
  feeds: Record<string, TensorData>;
}

const FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"];

/** Reads an /invocations body of `contentType` into feeds for `signature`. */
export function parseInvocation(
  mediaType: string,
  text: string,
  signature: ModelSignature,
): Invocation {
  if (mediaType === "text/csv") {
    const { columns, rows } = parseCsv(text);
    return { kind: "dataframe", feeds: dataframeFeeds(columns, rows, signature, true) };
  }
  const body = parseJson(text);
  if (!isObject(body)) {
    throw bad(`The body must be a JSON object with one of ${FORMATS.join(", ")}.`);
  }
  checkParams(body.params);
  const given = Object.keys(body).filter((k) => k !== "params");
  const formats = given.filter((k) => FORMATS.includes(k));
  const unknown = given.filter((k) => !FORMATS.includes(k));
  if (unknown.length > 0) {
    throw bad(
      `Unknown field '${unknown[0]}'; expected exactly one of ${FORMATS.join(", ")}, and optionally params.`,
    );
  }
  if (formats.length !== 1) {
    throw bad(`The body must have exactly one of ${FORMATS.join(", ")}; it has ${formats.length}.`);
  }

  const format = formats[0]!;
  const value = body[format];
  switch (format) {
    case "dataframe_split":
      return { kind: "dataframe", feeds: splitFeeds(value, signature) };
    case "dataframe_records":
      return { kind: "dataframe", feeds: recordFeeds(value, signature) };
    case "instances":
      return instanceFeeds(value, signature);
    default:
      return { kind: "tensor", feeds: inputFeeds(value, signature) };
  }
}

/**
 * MLflow passes `params` to a pyfunc model's predict; an ONNX model has none. An absent, null or
 * empty object is accepted, as clients send `"params": {}` by default; any key is refused by name
 * rather than ignored, so nobody believes a parameter took effect.
 */
function checkParams(params: unknown): void {
  if (params === undefined || params === null) {
    return;
  }
  if (!isObject(params)) {
    throw bad(
      `'params' must be an object of parameter names to values, got ${JSON.stringify(params)}; this model takes no params, so send {} or leave it out.`,
    );
  }
  const [first] = Object.keys(params);
  if (first !== undefined) {
    throw bad(
      `params '${first}' is not a parameter this model takes: Lathe's ONNX models take no params; send {} or leave 'params' out.`,
    );
  }
}

function splitFeeds(value: unknown, signature: ModelSignature): Record<string, TensorData> {
  if (!isObject(value) || !Array.isArray(value.columns) || !Array.isArray(value.data)) {
    throw bad('\'dataframe_split\' must be {"columns": [...], "data": [[...], ...]}.');
  }
  const columns = value.columns as unknown[];
  if (!columns.every((c) => typeof c === "string")) {
    throw bad("'dataframe_split.columns' must be an array of column names.");
  }
  const rows = value.data as unknown[];
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw bad(`'dataframe_split.data[${i}]' must be an array of ${columns.length} values.`);
    }
  });
  return dataframeFeeds(columns, rows as unknown[][], signature, false);
}

function recordFeeds(value: unknown, signature: ModelSignature): Record<string, TensorData> {
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw bad("'dataframe_records' must be an array of objects keyed by column name.");
  }
  const records = value;
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const rows = records.map((r) => columns.map((c) => r[c]));
  return dataframeFeeds(columns, rows, signature, false);
}

/**
 * A dataframe's columns are the model's features (one FP32 [N,F] input), or else its inputs,
 * one column each. CSV cells arrive as text and are read as the input's datatype.
 */
function dataframeFeeds(
  columns: string[],
  rows: unknown[][],
  signature: ModelSignature,
  isText: boolean,
): Record<string, TensorData> {
  if (rows.length === 0) {
    throw bad("The dataframe has no rows; send at least one.");
  }
  const tabular = tryTabular(signature);
  const expected = tabular ? tabular.features : signature.inputs.map((t) => t.name);
  for (const column of columns) {
    if (!expected.includes(column)) {
      throw bad(`unknown column '${column}'; expected ${expected.join(", ")}.`);
    }
  }
  const missing = expected.find((c) => !columns.includes(c));
  if (missing !== undefined) {
    throw bad(`missing column '${missing}'; expected ${expected.join(", ")}.`);
  }
  const cell = (i: number, column: string, datatype: string) =>
    readCell(rows[i]![columns.indexOf(column)], i, column, datatype, isText);

  if (tabular) {
    const data = new Float32Array(rows.length * tabular.features.length);
    rows.forEach((_, i) =>
      tabular.features.forEach((f, j) => {
        data[i * tabular.features.length + j] = cell(i, f, "FP32") as number;
      }),
    );
    const dims = [rows.length, tabular.features.length];
    return { [tabular.name]: { type: "float32", dims, data } };
  }

  const feeds: Record<string, TensorData> = {};
  for (const input of signature.inputs) {
    const isColumn =
      input.shape.length === 1 || (input.shape.length === 2 && Math.abs(input.shape[1]!) === 1);
    if (!isColumn) {
      throw bad(
        `input '${input.name}' has shape [${input.shape.join(",")}], which one dataframe column cannot fill; use 'inputs' or /v2/models/{name}/infer.`,
      );
    }
    const data = rows.map((_, i) => cell(i, input.name, input.datatype));
    const shape = input.shape.length === 1 ? [rows.length] : [rows.length, 1];
    feeds[input.name] = toTensorData({ shape, datatype: input.datatype, data }, input);
  }
  checkComplete(feeds, signature);
  return feeds;
}

function readCell(
  value: unknown,
  row: number,
  column: string,
  datatype: string,
  isText: boolean,
): unknown {
  const where = `row ${row} column '${column}'`;
  if (value === undefined) {
    throw bad(`row ${row} has no value in column '${column}' (${datatype}); give every row one.`);
  }
  if (datatype === "BYTES") {
    return value; // CSV cells are strings already; toTensorData refuses anything else.
  }
  if (datatype === "BOOL") {
    const text = isText && typeof value === "string" ? value.trim().toLowerCase() : value;
    return text === "true" ? true : text === "false" ? false : text;
  }
  const number = isText && typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    throw bad(`${where} must be a finite number (${datatype}), got ${JSON.stringify(value)}.`);
  }
  if (datatype === "FP32" && Math.abs(number) > FP32_MAX) {
    throw bad(`${where} is ${number}, outside FP32's range (±3.4e38) that the model takes.`);
  }
  if (datatype === "FP16" && Math.abs(number) > FP16_MAX) {
    throw bad(`${where} is ${number}, outside FP16's range (±${FP16_MAX}) that the model takes.`);
  }
  return number;
}

function instanceFeeds(value: unknown, signature: ModelSignature): Invocation {
  if (!Array.isArray(value) || value.length === 0) {
    throw bad("'instances' must be a non-empty array with one entry per row.");
  }
  if (value.some(isObject)) {
    return keyedInstances(value, signature);
  }
  if (signature.inputs.length !== 1) {
    throw bad(
      `This model has ${signature.inputs.length} inputs (${inputNames(signature)}): each instance must be an object keyed by input name.`,
    );
  }
  const input = signature.inputs[0]!;
  return { kind: "tensor", feeds: { [input.name]: nestedTensor(value, input) } };
}

/**
 * Instances as one object per row, as MLflow's scoring server reads them: keyed by input name,
 * each input's rows stacked into its tensor (`[{"features": [0, 12.2, 5.6, 4.7]}]`); or, for a
 * tabular model and keys that name no input, keyed by feature name and read as dataframe records.
 */
function keyedInstances(rows: unknown[], signature: ModelSignature): Invocation {
  if (!rows.every(isObject)) {
    const i = rows.findIndex((row) => !isObject(row));
    throw bad(
      `instances[${i}] is not an object; send every instance as an object keyed by input name, or every one as an array.`,
    );
  }
  const inputs = signature.inputs.map((t) => t.name);
  const keys = new Set(rows.flatMap((row) => Object.keys(row)));
  if (tryTabular(signature) && ![...keys].some((k) => inputs.includes(k))) {
    return { kind: "dataframe", feeds: recordFeeds(rows, signature) };
  }
  rows.forEach((row, i) => {
    const unknown = Object.keys(row).find((k) => !inputs.includes(k));
    if (unknown !== undefined) {
      throw bad(
        `instances[${i}] has unknown input '${unknown}'; the model's inputs are ${inputNames(signature)}.`,
      );
    }
    const missing = inputs.find((name) => !(name in row));
    if (missing !== undefined) {
      throw bad(
        `instances[${i}] is missing input '${missing}'; each instance needs ${inputNames(signature)}.`,
      );
    }
  });
  const named = Object.fromEntries(inputs.map((name) => [name, rows.map((row) => row[name])]));
  return { kind: "tensor", feeds: inputFeeds(named, signature) };
}

function inputFeeds(value: unknown, signature: ModelSignature): Record<string, TensorData> {
  if (Array.isArray(value)) {
    if (signature.inputs.length !== 1) {
      throw bad(
        `This model has ${signature.inputs.length} inputs (${inputNames(signature)}): 'inputs' must be an object keyed by input name.`,
      );
    }
    const input = signature.inputs[0]!;
    return { [input.name]: nestedTensor(value, input) };
  }
  if (!isObject(value)) {
    throw bad("'inputs' must be an array (one input) or an object keyed by input name.");
  }
  const feeds: Record<string, TensorData> = {};
  for (const [name, tensor] of Object.entries(value)) {
    const input = signature.inputs.find((t) => t.name === name);
    if (!input) {
      throw bad(`unknown input '${name}'; the model's inputs are ${inputNames(signature)}.`);
    }
    feeds[name] = nestedTensor(tensor, input);
  }
  checkComplete(feeds, signature);
  return feeds;
}

/** A nested JSON array read as `input`: its shape from the nesting, no deeper than the rank. */
function nestedTensor(value: unknown, input: ModelSignatureTensor): TensorData {
  if (!Array.isArray(value)) {
    throw bad(`input '${input.name}' must be a (nested) array shaped [${input.shape.join(",")}].`);
  }
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level) && shape.length <= input.shape.length) {
    shape.push(level.length);
    level = level[0];
  }
  return toTensorData({ shape, datatype: input.datatype, data: value }, input);
}

/** `{"predictions": ...}` in MLflow's shape for the kind of input that was sent. */
export function toMlflowPredictions(
  kind: InvocationKind,
  outputs: Record<string, TensorData>,
  rows: number,
): { predictions: unknown } {
  const entries = Object.entries(outputs).map(([name, t]) => [name, t] as const);
  if (kind === "tensor") {
    const nested = entries.map(([name, t]) => [name, unflatten(jsonValues(t), t.dims)] as const);
    return {
      predictions: nested.length === 1 ? nested[0]![1] : Object.fromEntries(nested),
    };
  }
  const predictions = Array.from({ length: rows }, (_, i) =>
    Object.fromEntries(
      entries.map(([name, t]) => {
        const width = t.dims.slice(1).reduce((a, b) => a * b, 1);
        const row = jsonValues(t).slice(i * width, (i + 1) * width);
        return [name, t.dims.length === 1 ? row[0] : unflatten(row, t.dims.slice(1))];
      }),
    ),
  );
  return { predictions };
}

function unflatten(values: unknown[], dims: number[]): unknown {
  if (dims.length <= 1) {
    return values;
  }
  const width = dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: dims[0]! }, (_, i) =>
    unflatten(values.slice(i * width, (i + 1) * width), dims.slice(1)),
  );
}

function tryTabular(signature: ModelSignature): { name: string; features: string[] } | undefined {
  try {
    return predictInput(signature);
  } catch {
    return undefined; // Not a feature-records model: columns name its inputs instead.
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad(`Request body is not JSON: ${(err as Error).message}`);
  }
}

function inputNames(signature: ModelSignature): string {
  return signature.inputs.map((t) => t.name).join(", ");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(message: string): LatheError {
  return new LatheError("LATHE_BAD_INPUT", message);
}
