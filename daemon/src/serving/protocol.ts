/**
 * The messages between the daemon's supervisor and a serving worker (over the child-process IPC
 * channel), and between the worker and its inference thread (worker_threads messages).
 */
import type { ModelSignature } from "../../../schemas/api";

/** Sent once by the supervisor right after spawning; the worker waits for it before anything. */
export interface WorkerConfig {
  type: "config";
  /** Absolute path of the ONNX file (a content-store object). */
  modelPath: string;
  model: string;
  version: number;
  signature: ModelSignature;
  /** The daemon's token: requests must carry `Authorization: Bearer <token>`. */
  token: string;
  host: "127.0.0.1";
  /** 0 for any free port. */
  port: number;
}

/** Sent by the worker: ready with its port, or failed before it could serve. */
export type WorkerReport =
  | { type: "ready"; port: number }
  | { type: "failed"; code: "LATHE_MODEL_LOAD" | "LATHE_UNAVAILABLE"; message: string };

/** Element types onnxruntime-node takes and gives for the OIP datatypes Lathe serves. */
export type TensorType =
  | "float32"
  | "float64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool"
  | "string";

export interface TensorData {
  type: TensorType;
  dims: number[];
  data: ArrayLike<number | bigint | boolean | string>;
}

/** Worker → inference thread. */
export interface InferRequest {
  id: number;
  feeds: Record<string, TensorData>;
  outputs: string[];
}

/** Inference thread → worker: `loaded` once, then one answer per InferRequest. */
export type InferReply =
  | { type: "loaded" }
  | { type: "load-failed"; message: string }
  | { type: "result"; id: number; outputs: Record<string, TensorData> }
  | { type: "error"; id: number; message: string };
