/**
 * A serving worker's HTTP server: Open Inference Protocol v2 (`/v2/...`), MLflow's scoring
 * protocol (`/invocations`, `/ping`, `/health`, `/version`), a plain `/predict` for JSON records
 * and Prometheus `/metrics`. Same access rules as the daemon (127.0.0.1, token, Host/Origin);
 * errors are OIP's `{ "error": "..." }` with the status of their LatheError code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { LatheError, httpStatus, toLatheError } from "../errors";
import { checkAccess, sendJson } from "../access";
import { logRequestDone, type Logger } from "../log";
import { answerModelPath, MODEL_PATH } from "./oip";
import type { ServingMetrics } from "./metrics";
import { parseInvocation, toMlflowPredictions } from "./mlflow";
import { recordsToFeeds, toPredictions } from "./predict";
import type { WorkerConfig } from "./protocol";
import { readBody, requireMediaType, parseJsonBody } from "./body";
import type { Slots } from "./slots";

export { MAX_BODY_BYTES } from "./body";

export interface ServingDeps {
  config: WorkerConfig;
  slots: Slots;
  metrics: ServingMetrics;
  log: Logger;
  /** True once the worker is shutting down: answers then carry `Connection: close`. */
  isStopping(): boolean;
}

/** What a route answers: JSON by default, and the model version that served it, if any. */
export interface Answer {
  body: unknown;
  version?: number;
  text?: { contentType: string; value: string };
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

// FIXME(#5): one HTTP thread parses and checks every request; for a small model (the 1024-wide
// MLP of bench/serving.ts) it, not inference, is the limit, at about 10,000 requests/s on 2 idle
// cores (docs/benchmarks.md). Parse on more threads (a cluster of HTTP processes) when it matters.
async function handle(deps: ServingDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  // The path alone, without a URL object: no route reads the query, and this runs per request.
  const path = pathOf(req.url ?? "/");
  const info = { reqId: nextRequestId(), method: req.method ?? "GET", route: path };
  const endpoint = endpointOf(path);
  if (deps.isStopping()) {
    res.setHeader("Connection", "close");
  }
  try {
    checkAccess(req, deps.config.token);
    const answer = await route(deps, req, path);
    if (answer.text) {
      res.writeHead(200, { "Content-Type": answer.text.contentType, "Cache-Control": "no-store" });
      res.end(answer.text.value);
    } else {
      sendJson(res, 200, answer.body);
    }
    const ms = performance.now() - started;
    deps.metrics.observeRequest(endpoint, 200, ms, answer.version ?? null);
    // Thousands of answers a second: /metrics counts them; the log keeps them only at debug.
    deps.log.debug({ ...info, status: 200, ms }, "request completed");
  } catch (err) {
    const error = toLatheError(err);
    const status = httpStatus[error.code];
    if (!res.headersSent) {
      sendJson(res, status, { error: error.message });
    }
    const ms = performance.now() - started;
    deps.metrics.observeRequest(endpoint, status, ms, versionOf.get(error) ?? null);
    logRequestDone(deps.log, info, status, ms, error);
  }
}

async function route(deps: ServingDeps, req: IncomingMessage, path: string): Promise<Answer> {
  const { config, slots } = deps;
  const method = req.method ?? "GET";
  switch (path) {
    case "/v2/health/live":
      allow(method, "GET", path);
      return { body: { live: true } };
    case "/v2/health/ready":
      allow(method, "GET", path);
      return { body: { ready: slots.versions().length > 0 && !deps.isStopping() } };
    case "/v2":
      allow(method, "GET", path);
      return { body: { name: "lathe", version: "2", extensions: [] } };
    case "/ping":
    case "/health":
      allow(method, "GET", path);
      return { body: null, text: { contentType: "application/json", value: "\n" } };
    case "/version":
      allow(method, "GET", path);
      return { body: null, text: { contentType: "text/plain", value: "lathe" } };
    case "/metrics":
      allow(method, "GET", path);
      return {
        body: null,
        text: {
          contentType: deps.metrics.registry.contentType,
          value: await deps.metrics.registry.metrics(),
        },
      };
    case "/predict":
      allow(method, "POST", path);
      return predict(deps, req);
    case "/invocations":
      allow(method, "POST", path);
      return invocations(deps, req);
  }
  const match = MODEL_PATH.exec(path);
  if (!match) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `No endpoint ${path}; try POST /predict, POST /invocations or POST /v2/models/${config.model}/infer.`,
    );
  }
  return answerModelPath(deps, req, method, match);
}

/** The version that refused a request, for the per-version error counts in /metrics. */
const versionOf = new WeakMap<object, number>();

/**
 * Runs the part of a request that belongs to `version` (checking against its signature, its
 * queue, its session) and tags what it throws with the version. `work` must queue before its
 * first `await`: choosing the version and queueing then happen in one turn of the event loop, so
 * a swap cannot retire the chosen version before its request is queued (slots.ts drains queues).
 */
export async function servedBy<T>(version: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const error = toLatheError(err);
    versionOf.set(error, version);
    throw error;
  }
}

async function predict(deps: ServingDeps, req: IncomingMessage): Promise<Answer> {
  requireMediaType(req, ["application/json"]);
  const body = parseJsonBody(await readBody(req));
  const slot = deps.slots.pick();
  return servedBy(slot.version, async () => {
    const feeds = recordsToFeeds(body, slot.signature);
    const rows = Object.values(feeds)[0]!.dims[0]!;
    const outputs = await slot.batcher.submit(
      feeds,
      slot.signature.outputs.map((t) => t.name),
    );
    return {
      body: {
        predictions: toPredictions(outputs, slot.signature, rows),
        model: deps.config.model,
        version: slot.version,
      },
      version: slot.version,
    };
  });
}

async function invocations(deps: ServingDeps, req: IncomingMessage): Promise<Answer> {
  const mediaType = requireMediaType(req, ["application/json", "text/csv"], true);
  const text = await readBody(req);
  const slot = deps.slots.pick();
  return servedBy(slot.version, async () => {
    const { kind, feeds } = parseInvocation(mediaType, text, slot.signature);
    const rows = Object.values(feeds)[0]?.dims[0] ?? 1;
    const outputs = await slot.batcher.submit(
      feeds,
      slot.signature.outputs.map((t) => t.name),
    );
    return { body: toMlflowPredictions(kind, outputs, rows), version: slot.version };
  });
}

/** The path of a request target: up to its query or fragment, "/" when it has none. */
export function pathOf(target: string): string {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  // An absolute-form target (`http://host/path`) names the path after its authority.
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  const rest = absolute ? path.slice(absolute[0].length) : path;
  return rest.startsWith("/") ? rest : `/${rest}`;
}

// Request ids for the log: a random prefix per worker and a counter, cheaper than a UUID each.
const idPrefix = randomUUID().slice(0, 8);
let requestCount = 0;
const nextRequestId = () => `${idPrefix}-${(++requestCount).toString(36)}`;

/** The metrics label for a path: the route's template, so labels stay few. */
function endpointOf(path: string): string {
  if (path.startsWith("/v2/models/")) {
    return path.endsWith("/infer")
      ? "infer"
      : path.endsWith("/ready")
        ? "model_ready"
        : "model_metadata";
  }
  const known = ["/predict", "/invocations", "/metrics", "/ping", "/health", "/version", "/v2"];
  return known.includes(path) ? path.slice(1) : path.startsWith("/v2/health") ? "health" : "other";
}

export function allow(method: string, expected: string, path: string): void {
  if (method !== expected) {
    throw new LatheError(
      "LATHE_BAD_METHOD",
      `${method} is not allowed on ${path}; use ${expected}.`,
    );
  }
}
