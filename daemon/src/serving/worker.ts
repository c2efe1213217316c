/**
 * The serving worker process (dist/serving-worker.js), a child of the daemon. It waits for its
 * WorkerConfig over IPC, loads each model version in its own inference thread, starts its HTTP
 * server on 127.0.0.1 and reports `{type: "ready", port}`; or `{type: "failed"}` and exits 1.
 * Later `route` messages swap versions or the traffic split without closing the port. It stops
 * on SIGTERM (after draining) and when the IPC channel closes (the daemon is gone). Logs are JSON
 * lines on stderr.
 */
import type { Server } from "node:http";
import { join } from "node:path";
import { toLatheError } from "../errors";
import { createLogger } from "../log";
import { ServingMetrics } from "./metrics";
import type { SupervisorMessage, WorkerConfig, WorkerReport } from "./protocol";
import { startServingHttp } from "./server";
import { Slots } from "./slots";

/** How long a stopping worker waits for in-flight requests before closing connections. */
const DRAIN_MS = 5000;

const log = createLogger();
let slots: Slots | undefined;
let server: Server | undefined;
let stopping = false;

/** Sends a report; resolves once it is written, so an exit right after it cannot drop it. */
function report(message: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send && process.connected) {
      process.send(message, () => resolve());
    } else {
      resolve();
    }
  });
}

async function start(config: WorkerConfig): Promise<void> {
  const context = { model: config.model, versions: config.slots.map((s) => s.version) };
  const metrics = new ServingMetrics(config.model);
  slots = new Slots(join(__dirname, "infer-thread.js"), metrics, log, (message) => {
    log.error({ ...context, reason: message }, "inference thread died; worker exiting");
    process.exit(1);
  });
  try {
    await slots.route(config.slots, config.options);
  } catch (err) {
    log.error({ ...context, err }, "model load failed");
    await report({ type: "failed", code: "LATHE_MODEL_LOAD", message: (err as Error).message });
    process.exit(1);
  }

  try {
    const http = await startServingHttp({
      config,
      slots,
      metrics,
      log,
      isStopping: () => stopping,
    });
    server = http.server;
    log.info({ ...context, port: http.port }, "serving worker ready");
    process.on("message", (message: SupervisorMessage) => void answer(message, metrics, config));
    await report({ type: "ready", port: http.port });
  } catch (err) {
    log.error({ ...context, err }, "serving worker could not listen");
    await report({ type: "failed", code: "LATHE_UNAVAILABLE", message: (err as Error).message });
    process.exit(1);
  }
}

async function answer(
  message: SupervisorMessage,
  metrics: ServingMetrics,
  config: WorkerConfig,
): Promise<void> {
  if (message.type === "stats") {
    await report({ type: "stats", id: message.id, stats: metrics.stats(config.model) });
    return;
  }
  try {
    await slots!.route(message.slots, message.options);
    log.info({ versions: message.slots.map((s) => [s.version, s.weight]) }, "routes switched");
    await report({ type: "routed", id: message.id });
  } catch (err) {
    const error = toLatheError(err);
    log.error({ err }, "new model version failed to load; the old routes keep serving");
    await report({
      type: "route-failed",
      id: message.id,
      code: "LATHE_MODEL_LOAD",
      message: error.message,
    });
  }
}

/** Stops accepting, lets queued and running requests finish (up to DRAIN_MS), then exits. */
async function stop(reason: string): Promise<void> {
  if (stopping) {
    return;
  }
  stopping = true;
  log.info({ reason }, "serving worker stopping");
  server?.close();
  server?.closeIdleConnections();
  const drained = slots?.stopAll() ?? Promise.resolve();
  await Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_MS))]);
  server?.closeAllConnections();
  process.exit(0);
}

if (!process.send) {
  process.stderr.write("serving-worker: start me from the Lathe daemon (I need an IPC channel).\n");
  process.exit(2);
}
process.once("message", (message: WorkerConfig) => void start(message));
process.on("disconnect", () => void stop("the daemon disconnected"));
process.once("SIGTERM", () => void stop("SIGTERM"));
process.once("SIGINT", () => void stop("SIGINT"));
