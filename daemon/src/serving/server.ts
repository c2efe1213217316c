/**
 * A serving worker's HTTP server: Open Inference Protocol v2 (`/v2/...`) and a plain `/predict`
 * for JSON records. Same access rules as the daemon (127.0.0.1, token, Host/Origin); errors are
 * OIP's `{ "error": "..." }` with the status of their LatheError code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { LatheError, httpStatus, toLatheError } from "../errors";
import { checkAccess, sendJson } from "../access";
import { logRequestDone, type Logger } from "../log";
import type { InferenceThread } from "./inference";
import { recordsToFeeds, toPredictions } from "./predict";
import type { WorkerConfig } from "./protocol";
import { parseInferRequest, toOipTensor } from "./tensors";

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

export interface ServingDeps {
  config: WorkerConfig;
  inference: InferenceThread;
  log: Logger;
}

/** Listens on config.host:config.port and resolves with the bound server and port. */
export async function startServingHttp(
  deps: ServingDeps,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => void handle(deps, req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.config.port, deps.config.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function handle(deps: ServingDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const info = { reqId: randomUUID(), method: req.method ?? "GET", route: url.pathname };
  try {
    checkAccess(req, deps.config.token);
    const result = await route(deps, req, url.pathname);
    sendJson(res, 200, result);
    logRequestDone(deps.log, info, 200, performance.now() - started);
  } catch (err) {
    const error = toLatheError(err);
    const status = httpStatus[error.code];
    if (!res.headersSent) {
      sendJson(res, status, { error: error.message });
    }
    logRequestDone(deps.log, info, status, performance.now() - started, error);
  }
}

async function route(deps: ServingDeps, req: IncomingMessage, path: string): Promise<unknown> {
  const { config } = deps;
  const method = req.method ?? "GET";
  if (path === "/v2/health/live" || path === "/v2/health/ready") {
    allow(method, "GET", path);
    return path.endsWith("live") ? { live: true } : { ready: true };
  }
  if (path === "/v2") {
    allow(method, "GET", path);
    return { name: "lathe", version: "2", extensions: [] };
  }
  if (path === "/predict") {
    allow(method, "POST", path);
    return predict(deps, await readJson(req));
  }
  const match = MODEL_PATH.exec(path);
  if (!match) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `No endpoint ${path}; try POST /predict or POST /v2/models/${config.model}/infer.`,
    );
  }
  checkModel(config, decodeSegment(match[1]!), match[2]);
  switch (match[3]) {
    case "/infer":
      allow(method, "POST", path);
      return infer(deps, await readJson(req));
    case "/ready":
      allow(method, "GET", path);
      return { name: config.model, ready: true };
    default:
      allow(method, "GET", path);
      return metadata(config);
  }
}

function metadata(config: WorkerConfig): unknown {
  return {
    name: config.model,
    versions: [String(config.version)],
    platform: "onnxruntime",
    inputs: config.signature.inputs,
    outputs: config.signature.outputs,
  };
}

async function infer(deps: ServingDeps, body: unknown): Promise<unknown> {
  const { config } = deps;
  const request = parseInferRequest(body, config.signature);
  const outputs = await deps.inference.run(request.feeds, request.outputs);
  return {
    model_name: config.model,
    model_version: String(config.version),
    ...(request.id !== undefined ? { id: request.id } : {}),
    outputs: request.outputs.map((name) => toOipTensor(name, outputs[name]!)),
  };
}

async function predict(deps: ServingDeps, body: unknown): Promise<unknown> {
  const { config } = deps;
  const feeds = recordsToFeeds(body, config.signature);
  const rows = Object.values(feeds)[0]!.dims[0]!;
  const outputs = await deps.inference.run(
    feeds,
    config.signature.outputs.map((t) => t.name),
  );
  return {
    predictions: toPredictions(outputs, config.signature, rows),
    model: config.model,
    version: config.version,
  };
}

function checkModel(config: WorkerConfig, name: string, version: string | undefined): void {
  if (name !== config.model) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `This server serves model '${config.model}', not '${name}'.`,
    );
  }
  if (version !== undefined && version !== String(config.version)) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `This server serves version ${config.version} of '${config.model}', not version ${version}.`,
    );
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new LatheError("LATHE_NOT_FOUND", `'${segment}' is not a model name.`);
  }
}

function allow(method: string, expected: string, path: string): void {
  if (method !== expected) {
    throw new LatheError(
      "LATHE_BAD_METHOD",
      `${method} is not allowed on ${path}; use ${expected}.`,
    );
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw new LatheError("LATHE_TOO_LARGE", `Request body over ${MAX_BODY_BYTES} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new LatheError("LATHE_TOO_LARGE", `Request body over ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new LatheError("LATHE_BAD_INPUT", `Request body is not JSON: ${(err as Error).message}`);
  }
}
