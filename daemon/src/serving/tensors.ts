/**
 * Open Inference Protocol v2 tensors ↔ onnxruntime tensors: checks a request's inputs against the
 * model's signature (names, datatypes, shapes, values) and turns outputs back into OIP JSON.
 * Every problem with a request is a LATHE_BAD_INPUT whose message names the tensor at fault.
 */
import type { ModelSignature, ModelSignatureTensor } from "../../../schemas/api";
import { LatheError } from "../errors";
import { FP16_MAX, fromHalfBits, toHalfBits } from "./half";
import type { TensorData, TensorType } from "./protocol";

export const tensorTypes: Record<string, TensorType> = {
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  BOOL: "bool",
  BYTES: "string",
};

const datatypesOf = Object.fromEntries(Object.entries(tensorTypes).map(([k, v]) => [v, k]));

const integerRanges: Record<string, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

/** No tensor in a request may hold more values than this (a body is at most 8 MiB anyway). */
const MAX_ELEMENTS = 16 * 1024 * 1024;

export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface ParsedInfer {
  id?: string;
  feeds: Record<string, TensorData>;
  outputs: string[];
}

/**
 * Refuses, before a worker loads it, a version with an input or output of a datatype Lathe cannot
 * serve, so that no deployment is ready but answers 400 to every request. `what` names it
 * (`weather@3`).
 *
 * FIXME(#5): serve BF16 inputs and outputs. onnxruntime-node 1.30 has no 'bfloat16' tensor type
 * ("Unsupported tensor type: bfloat16") and fails a run with a BF16 output ("Unsupported data
 * type: 16"); the worker would have to pass the bits the way it does for FP16 once it has one.
 */
export function checkServable(what: string, signature: ModelSignature): void {
  const tensors = [
    ...signature.inputs.map((t) => ({ kind: "input", ...t })),
    ...signature.outputs.map((t) => ({ kind: "output", ...t })),
  ];
  const unservable = tensors.find((t) => !tensorTypes[t.datatype]);
  if (unservable) {
    const { kind, name, datatype } = unservable;
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `${what} cannot be served: its ${kind} '${name}' has datatype ${datatype}, which onnxruntime-node cannot pass in or out of a model. Export the model with FP16 or FP32 ${kind}s (Casts inside the graph may keep ${datatype} in between).`,
      { model: what, tensor: name, kind, datatype },
    );
  }
}

/** Checks an OIP infer request body against `signature` and builds the feeds for the session. */
export function parseInferRequest(body: unknown, signature: ModelSignature): ParsedInfer {
  if (!isObject(body) || !Array.isArray(body.inputs)) {
    throw bad("The request body must be a JSON object with an 'inputs' array.");
  }
  if (body.id !== undefined && typeof body.id !== "string") {
    throw bad("'id' must be a string.");
  }

  const feeds: Record<string, TensorData> = {};
  for (const [i, input] of body.inputs.entries()) {
    const name = isObject(input) && typeof input.name === "string" ? input.name : undefined;
    if (name === undefined) {
      throw bad(`inputs[${i}] must be an object with a string 'name'.`);
    }
    const expected = signature.inputs.find((t) => t.name === name);
    if (!expected) {
      throw bad(`unknown input '${name}'; the model's inputs are ${names(signature.inputs)}.`);
    }
    if (feeds[name]) {
      throw bad(`input '${name}' is given twice.`);
    }
    feeds[name] = toTensorData(input as Record<string, unknown>, expected);
  }
  checkComplete(feeds, signature);

  return {
    id: body.id,
    feeds,
    outputs: requestedOutputs(body.outputs, signature),
  };
}

/** Every input given, and all inputs with a free batch dimension agree on its size. */
export function checkComplete(feeds: Record<string, TensorData>, signature: ModelSignature): void {
  const missing = signature.inputs.filter((t) => !feeds[t.name]);
  if (missing.length) {
    throw bad(
      `missing input '${missing[0]!.name}'; the model's inputs are ${names(signature.inputs)}.`,
    );
  }
  const batched = signature.inputs.filter((t) => t.shape[0] === -1);
  const first = batched[0];
  for (const t of batched.slice(1)) {
    const [a, b] = [feeds[first!.name]!.dims[0], feeds[t.name]!.dims[0]];
    if (a !== b) {
      throw bad(
        `input '${t.name}' has ${b} rows but input '${first!.name}' has ${a}; all inputs must agree on the batch dimension (the first).`,
      );
    }
  }
}

export function requestedOutputs(outputs: unknown, signature: ModelSignature): string[] {
  if (outputs === undefined) {
    return signature.outputs.map((t) => t.name);
  }
  if (!Array.isArray(outputs)) {
    throw bad("'outputs' must be an array of {name} objects.");
  }
  return outputs.map((o, i) => {
    const name = isObject(o) && typeof o.name === "string" ? o.name : undefined;
    if (name === undefined) {
      throw bad(`outputs[${i}] must be an object with a string 'name'.`);
    }
    if (!signature.outputs.some((t) => t.name === name)) {
      throw bad(`unknown output '${name}'; the model's outputs are ${names(signature.outputs)}.`);
    }
    return name;
  });
}

/** One OIP input object (`{shape, datatype, data}`) checked against the tensor it feeds. */
export function toTensorData(
  input: Record<string, unknown>,
  expected: ModelSignatureTensor,
): TensorData {
  const name = expected.name;
  if (input.datatype !== expected.datatype) {
    throw bad(
      `input '${name}' has datatype ${JSON.stringify(input.datatype)}; the model expects ${expected.datatype}.`,
    );
  }
  const type = tensorTypes[expected.datatype];
  if (!type) {
    throw bad(`input '${name}' has datatype ${expected.datatype}, which Lathe cannot serve yet.`);
  }
  const shape = checkShape(name, input.shape, expected.shape);
  const values = flatten(input.data, name, shape.length);
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw bad(
      `input '${name}' has ${values.length} values; shape [${shape.join(",")}] needs ${size}.`,
    );
  }
  return { type, dims: shape, data: typedValues(name, expected.datatype, values) };
}

function checkShape(name: string, given: unknown, expected: number[]): number[] {
  const isShape =
    Array.isArray(given) && given.every((d) => Number.isInteger(d) && (d as number) >= 0);
  if (!isShape) {
    throw bad(`input '${name}' needs a 'shape' array of non-negative integers.`);
  }
  const shape = given as number[];
  if (shape.reduce((a, b) => a * b, 1) > MAX_ELEMENTS) {
    throw bad(
      `input '${name}' has shape [${shape.join(",")}], over ${MAX_ELEMENTS} values in one tensor.`,
    );
  }
  const fits =
    shape.length === expected.length && expected.every((d, i) => d === -1 || d === shape[i]);
  if (!fits) {
    throw bad(
      `input '${name}' has shape [${shape.join(",")}]; the model expects [${expected.join(",")}] (-1: any size).`,
    );
  }
  return shape;
}

/**
 * OIP allows `data` flat (row-major) or nested as the shape. Nesting deeper than the shape's rank
 * is refused rather than followed, so a hostile body cannot recurse without bound.
 */
function flatten(data: unknown, name: string, rank: number): unknown[] {
  if (!Array.isArray(data)) {
    throw bad(`input '${name}' needs a 'data' array.`);
  }
  let values: unknown[] = data;
  for (let depth = 1; values.some(Array.isArray); depth++) {
    if (depth >= Math.max(rank, 1)) {
      throw bad(`input '${name}' has 'data' nested deeper than its shape's ${rank} dimensions.`);
    }
    values = values.flat(1);
  }
  return values;
}

/** The largest finite float32. */
export const FP32_MAX = 3.4028234663852886e38;

function typedValues(name: string, datatype: string, values: unknown[]): TensorData["data"] {
  const at = (i: number, what: string) =>
    bad(`input '${name}' value ${i} (${show(values[i])}) is not ${what}.`);
  switch (datatype) {
    case "FP16":
      return halves(values, at);
    case "FP32":
    case "FP64": {
      const out =
        datatype === "FP32" ? new Float32Array(values.length) : new Float64Array(values.length);
      values.forEach((v, i) => {
        // JSON has no NaN or infinity; a literal like 1e999 parses to Infinity: refuse it too.
        if (typeof v !== "number" || !Number.isFinite(v)) {
          throw at(i, "a finite number");
        }
        // Float32Array would store 1e39 as Infinity and the model would answer nonsense.
        if (datatype === "FP32" && Math.abs(v) > FP32_MAX) {
          throw at(i, "within FP32's range (±3.4e38)");
        }
        out[i] = v;
      });
      return out;
    }
    case "BOOL":
      return values.map((v, i) => {
        if (typeof v !== "boolean") {
          throw at(i, "true or false");
        }
        return v;
      });
    case "BYTES":
      return values.map((v, i) => {
        if (typeof v !== "string") {
          throw at(i, "a string");
        }
        return v;
      });
    default:
      return integers(datatype, values, at);
  }
}

/**
 * FP16 values as their bits (see half.ts), each rounded to the nearest half. One beyond ±65504 is
 * refused, as FP32 refuses one beyond its range, rather than sent to the model as infinity.
 */
function halves(values: unknown[], at: (i: number, what: string) => LatheError): Uint16Array {
  const out = new Uint16Array(values.length);
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw at(i, "a finite number");
    }
    if (Math.abs(v) > FP16_MAX) {
      throw at(i, `within FP16's range (±${FP16_MAX})`);
    }
    out[i] = toHalfBits(v);
  });
  return out;
}

function integers(
  datatype: string,
  values: unknown[],
  at: (i: number, what: string) => LatheError,
): TensorData["data"] {
  const [min, max] = integerRanges[datatype]!;
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw at(i, `an integer from ${min} to ${max}`);
    }
  });
  const numbers = values as number[];
  switch (datatype) {
    case "INT8":
      return Int8Array.from(numbers);
    case "INT16":
      return Int16Array.from(numbers);
    case "INT32":
      return Int32Array.from(numbers);
    case "INT64":
      return BigInt64Array.from(numbers, (n) => BigInt(n));
    case "UINT8":
      return Uint8Array.from(numbers);
    case "UINT16":
      return Uint16Array.from(numbers);
    case "UINT32":
      return Uint32Array.from(numbers);
    default:
      return BigUint64Array.from(numbers, (n) => BigInt(n));
  }
}

/** An output tensor as OIP JSON: flat row-major data, 64-bit integers as JSON numbers. */
export function toOipTensor(name: string, tensor: TensorData): OipTensor {
  const data = jsonValues(tensor);
  return { name, shape: tensor.dims, datatype: datatypesOf[tensor.type] ?? tensor.type, data };
}

/**
 * A tensor's values as JSON: 64-bit integers as numbers, NaN and infinities as null, BOOL as
 * true/false (onnxruntime-node hands bool outputs over as a Uint8Array of 0 and 1) and FP16 as
 * numbers (it hands them over as their bits in a Uint16Array, or as a Float16Array where the
 * runtime has one).
 */
export function jsonValues(tensor: TensorData): unknown[] {
  if (tensor.type === "bool") {
    return Array.from(tensor.data as ArrayLike<unknown>, Boolean);
  }
  const isHalfBits = tensor.type === "float16" && tensor.data instanceof Uint16Array;
  return Array.from(tensor.data as ArrayLike<unknown>, (v) => {
    const value = isHalfBits ? fromHalfBits(v as number) : v;
    return typeof value === "bigint"
      ? Number(value)
      : typeof value === "number" && !Number.isFinite(value)
        ? null
        : value;
  });
}

function names(tensors: ModelSignatureTensor[]): string {
  return tensors.map((t) => t.name).join(", ");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(message: string): LatheError {
  return new LatheError("LATHE_BAD_INPUT", message);
}

/** A value as the client wrote it: numbers as text (JSON.stringify would turn 1e999 into null). */
function show(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}
