/**
 * Reads a model's signature from its ONNX bytes: graph inputs and outputs with their Open
 * Inference Protocol datatypes and shapes, and the feature and label names Lathe's exporters put
 * in metadata_props (`lathe.features`, `lathe.labels`). Decoding is protobuf only; onnxruntime is
 * not loaded here, so the CLI can register a model quickly.
 */
import { onnx } from "onnx-proto";
import type { ModelSignature, ModelSignatureTensor } from "../../../schemas/api";
import { LatheError } from "../errors";

/** ONNX TensorProto element types to Open Inference Protocol datatypes. */
const oipDatatypes: Record<number, string> = {
  1: "FP32",
  2: "UINT8",
  3: "INT8",
  4: "UINT16",
  5: "INT16",
  6: "INT32",
  7: "INT64",
  8: "BYTES",
  9: "BOOL",
  10: "FP16",
  11: "FP64",
  12: "UINT32",
  13: "UINT64",
  16: "BF16",
};

type Int64 = number | { toNumber(): number };

/** Decodes `bytes` as an ONNX ModelProto; `file` names the model in errors. */
export function readSignature(bytes: Uint8Array, file: string): ModelSignature {
  const model = decodeModel(bytes, file);
  const graph = model.graph;
  if (!graph || !graph.output || graph.output.length === 0) {
    throw notOnnx(file, "it has no graph outputs");
  }

  // Models from older exporters also list their initializers (weights) as graph inputs.
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !weights.has(v.name ?? ""));
  const signature: ModelSignature = {
    inputs: inputs.map((v) => tensorOf(v, file)),
    outputs: graph.output.map((v) => tensorOf(v, file)),
  };

  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? "", p.value ?? ""]));
  const features = stringList(meta.get("lathe.features"), "lathe.features", file);
  const labels = stringList(meta.get("lathe.labels"), "lathe.labels", file);
  if (features) {
    signature.features = features;
  }
  if (labels) {
    signature.labels = labels;
  }
  return signature;
}

function decodeModel(bytes: Uint8Array, file: string): onnx.ModelProto {
  const text = textStart(bytes);
  if (text !== undefined) {
    throw notOnnx(file, `it is a text file, starting ${JSON.stringify(text)}`);
  }
  try {
    return onnx.ModelProto.decode(bytes);
  } catch {
    // protobufjs says "index out of range: 37 + 44 > 63" and the like, which helps nobody.
    throw notOnnx(file, `its ${bytes.length} bytes do not decode as an ONNX ModelProto`);
  }
}

/**
 * A file that is not a model is the caller's mistake (a wrong --path), hence bad input (400,
 * exit 2), unlike a model onnxruntime cannot load (LATHE_MODEL_LOAD).
 */
function notOnnx(file: string, reason: string): LatheError {
  return new LatheError("LATHE_BAD_INPUT", `${file} is not an ONNX model (${reason}).`, {
    file,
    reason,
  });
}

/** The first characters of `bytes` when they read as text (JSON, CSV, YAML), else undefined. */
function textStart(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, 40);
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
  } catch {
    return undefined;
  }
  const isText = head.length > 0 && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(decoded);
  return isText ? `${decoded.trimEnd()}${bytes.length > head.length ? "…" : ""}` : undefined;
}

function tensorOf(value: onnx.IValueInfoProto, file: string): ModelSignatureTensor {
  const name = value.name ?? "";
  const tensor = value.type?.tensorType;
  if (!name || !tensor) {
    throw new LatheError(
      "LATHE_MODEL_LOAD",
      `${file}: graph value '${name}' is not a tensor; only tensor inputs and outputs can be served.`,
      { file, name },
    );
  }
  const datatype = oipDatatypes[tensor.elemType ?? 0];
  if (!datatype) {
    throw new LatheError(
      "LATHE_MODEL_LOAD",
      `${file}: tensor '${name}' has element type ${tensor.elemType ?? 0}, which Lathe cannot serve.`,
      { file, name },
    );
  }
  const shape = (tensor.shape?.dim ?? []).map((d) => {
    const fixed =
      d.dimValue === null || d.dimValue === undefined ? 0 : toNumber(d.dimValue as Int64);
    return d.dimParam || fixed <= 0 ? -1 : fixed;
  });
  return { name, datatype, shape };
}

function toNumber(value: Int64): number {
  return typeof value === "number" ? value : value.toNumber();
}

function stringList(text: string | undefined, key: string, file: string): string[] | undefined {
  if (text === undefined) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // Reported below with the same message as a wrong shape.
  }
  const isList = Array.isArray(parsed) && parsed.every((s) => typeof s === "string");
  if (!isList) {
    throw new LatheError(
      "LATHE_MODEL_LOAD",
      `${file}: metadata '${key}' must be a JSON array of strings, got ${text.slice(0, 100)}.`,
      { file, key },
    );
  }
  return parsed as string[];
}
