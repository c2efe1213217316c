/**
 * The serving worker process (dist/serving-worker.js), a child of the daemon. It waits for its
 * WorkerConfig over IPC, loads the model in an inference thread, starts its HTTP server on
 * 127.0.0.1 and reports `{type: "ready", port}`; or `{type: "failed"}` and exits 1. It stops
 * on SIGTERM, and when the IPC channel closes (the daemon is gone). Logs are JSON lines on stderr.
 */
import type { Server } from "node:http";
import { join } from "node:path";
import { createLogger } from "../log";
import { InferenceThread } from "./inference";
import type { WorkerConfig, WorkerReport } from "./protocol";
import { startServingHttp } from "./server";

const log = createLogger();
let inference: InferenceThread | undefined;
let server: Server | undefined;

/** Sends a report; resolves once it is written, so an exit right after it cannot drop it. */
function report(message: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send) {
      process.send(message, () => resolve());
    } else {
      resolve();
    }
  });
}

async function start(config: WorkerConfig): Promise<void> {
  const context = { model: config.model, version: config.version };
  try {
    const script = join(__dirname, "infer-thread.js");
    inference = await InferenceThread.start(script, config.modelPath, (message) => {
      log.error({ ...context, reason: message }, "inference thread died; worker exiting");
      process.exit(1);
    });
  } catch (err) {
    log.error({ ...context, err }, "model load failed");
    await report({ type: "failed", code: "LATHE_MODEL_LOAD", message: (err as Error).message });
    process.exit(1);
  }

  try {
    const http = await startServingHttp({ config, inference, log });
    server = http.server;
    log.info({ ...context, port: http.port }, "serving worker ready");
    await report({ type: "ready", port: http.port });
  } catch (err) {
    log.error({ ...context, err }, "serving worker could not listen");
    await report({ type: "failed", code: "LATHE_UNAVAILABLE", message: (err as Error).message });
    process.exit(1);
  }
}

let stopping = false;
async function stop(reason: string): Promise<void> {
  if (stopping) {
    return;
  }
  stopping = true;
  log.info({ reason }, "serving worker stopping");
  server?.close();
  server?.closeAllConnections();
  await inference?.stop();
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
