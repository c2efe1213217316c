/**
 * The messages between the daemon's supervisor and a serving worker (over the child-process IPC
 * channel), and between the worker and its inference threads (worker_threads messages).
 */
import type { DeploymentStats, ModelSignature, ServingOptions } from "../../../schemas/api";

/** One model version a worker serves, with its share of the traffic. */
export interface SlotConfig {
  version: number;
  /** Absolute path of the ONNX file (a content-store object). */
  modelPath: string;
  signature: ModelSignature;
  /** Relative share of requests to the deployment's URL; 0 serves only its versioned paths. */
  weight: number;
}

/** Sent once by the supervisor right after spawning; the worker waits for it before anything. */
export interface WorkerConfig {
  type: "config";
  model: string;
  slots: SlotConfig[];
  options: ServingOptions;
  /** The daemon's token: requests must carry `Authorization: Bearer <token>`. */
  token: string;
  host: "127.0.0.1";
  /** 0 for any free port. */
  port: number;
}

/**
 * Supervisor → a ready worker. `route` loads the versions it does not hold yet, switches to the
 * new table in one step, answers `routed`, then drains and unloads the versions no longer listed.
 * `stats` asks for the last few seconds of traffic.
 */
export type SupervisorMessage =
  | { type: "route"; id: number; slots: SlotConfig[]; options: ServingOptions }
  | { type: "stats"; id: number };

/** Worker → supervisor. */
export type WorkerReport =
  | { type: "ready"; port: number }
  | { type: "failed"; code: "LATHE_MODEL_LOAD" | "LATHE_UNAVAILABLE"; message: string }
  | { type: "routed"; id: number }
  | { type: "route-failed"; id: number; code: "LATHE_MODEL_LOAD"; message: string }
  | { type: "stats"; id: number; stats: DeploymentStats };

/** Element types onnxruntime-node takes and gives for the OIP datatypes Lathe serves. */
export type TensorType =
  | "float16"
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
