/**
 * Starting one serving worker process and waiting for its ready report. The worker's output (JSON
 * log lines) goes to `.lathe/logs/serving-<name>.log`, and its last lines are kept for errors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { LatheError } from "../errors";
import type { SupervisorMessage, WorkerConfig, WorkerReport } from "./protocol";

const TAIL_BYTES = 8 * 1024;

export interface WorkerProcess {
  child: ChildProcess;
  port: number;
  /** The last few KB of the worker's output, for error messages. */
  tail(): string;
  /** Set before a deliberate stop, so its exit is not reported as a failure. */
  isStopping: boolean;
  /** Sends a route or stats message and resolves with the worker's answer to it. */
  ask(message: AskMessage, timeoutMs?: number): Promise<WorkerReport>;
}

type Distribute<T> = T extends unknown ? Omit<T, "id"> : never;
export type AskMessage = Distribute<SupervisorMessage>;

/** The folder holding the bundles: beside this code in dist/, or `<repo>/dist` from sources. */
export function distDir(): string {
  return existsSync(join(__dirname, "serving-worker.js"))
    ? __dirname
    : join(__dirname, "..", "..", "..", "dist");
}

/** Spawns the worker, sends its config and resolves when it reports ready. */
export async function spawnWorker(
  config: WorkerConfig,
  logsDir: string,
  timeoutMs: number,
): Promise<WorkerProcess> {
  const script = join(distDir(), "serving-worker.js");
  if (!existsSync(script)) {
    throw new LatheError(
      "LATHE_UNAVAILABLE",
      `The serving worker is not built (${script} is missing); run 'npm run build'.`,
      { script },
    );
  }
  mkdirSync(logsDir, { recursive: true });
  const logFile = createWriteStream(join(logsDir, `serving-${config.model}.log`), { flags: "a" });
  // LATHE_SERVING_NODE_ARGS: flags for the worker's node, to profile it (e.g. "--cpu-prof").
  const nodeArgs = (process.env.LATHE_SERVING_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, script], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
  });

  let tail = "";
  const collect = (chunk: Buffer) => {
    logFile.write(chunk);
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  child.once("exit", () => logFile.end());

  const port = await waitForReady(child, config, timeoutMs, () => tail);
  return { child, port, tail: () => tail, isStopping: false, ask: asker(child, config) };
}

/** Request/answer over IPC, matched by id; rejects when the worker exits or stays silent. */
function asker(child: ChildProcess, config: WorkerConfig): WorkerProcess["ask"] {
  let nextId = 1;
  return (message, timeoutMs = 120_000) =>
    new Promise<WorkerReport>((resolve, reject) => {
      const id = nextId++;
      const done = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      const onMessage = (report: WorkerReport) => {
        if ("id" in report && report.id === id) {
          done();
          resolve(report);
        }
      };
      const onExit = () => {
        done();
        reject(
          new LatheError(
            "LATHE_UNAVAILABLE",
            `The serving worker for ${config.model} exited before answering '${message.type}'.`,
          ),
        );
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new LatheError(
            "LATHE_UNAVAILABLE",
            `The serving worker for ${config.model} did not answer '${message.type}' within ${timeoutMs} ms.`,
          ),
        );
      }, timeoutMs);
      child.on("message", onMessage);
      child.once("exit", onExit);
      // With a callback, a send to a worker whose channel just closed (it died, its exit not yet
      // seen) rejects here instead of emitting an 'error' event that nothing listens to.
      child.send({ ...message, id }, (err: Error | null) => {
        if (err) {
          done();
          reject(
            new LatheError(
              "LATHE_UNAVAILABLE",
              `The serving worker for ${config.model} could not be sent '${message.type}': ${err.message}`,
            ),
          );
        }
      });
    });
}

function waitForReady(
  child: ChildProcess,
  config: WorkerConfig,
  timeoutMs: number,
  tail: () => string,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const fail = (code: "LATHE_MODEL_LOAD" | "LATHE_UNAVAILABLE", message: string) => {
      cleanup();
      child.kill("SIGKILL");
      reject(
        new LatheError(code, message, {
          model: config.model,
          versions: config.slots.map((slot) => slot.version),
          output: tail(),
        }),
      );
    };
    const onMessage = (report: WorkerReport) => {
      if (report.type === "ready") {
        cleanup();
        resolve(report.port);
      } else {
        fail(
          report.type === "failed" ? report.code : "LATHE_UNAVAILABLE",
          `The serving worker for ${describe(config)} failed to start: ${report.type === "failed" ? report.message : report.type}`,
        );
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(
        "LATHE_UNAVAILABLE",
        `The serving worker for ${describe(config)} exited (${signal ?? `code ${code}`}) before it was ready: ${lastLines(tail())}`,
      );
    const onError = (err: Error) =>
      fail("LATHE_UNAVAILABLE", `Could not start the serving worker: ${err.message}`);
    const timer = setTimeout(
      () =>
        fail(
          "LATHE_UNAVAILABLE",
          `The serving worker for ${describe(config)} was not ready within ${timeoutMs} ms: ${lastLines(tail())}`,
        ),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      child.off("error", onError);
    };

    child.on("message", onMessage);
    child.once("exit", onExit);
    child.once("error", onError);
    child.send(config);
  });
}

/** Stops a worker: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopWorker(worker: WorkerProcess, graceMs = 5000): Promise<void> {
  worker.isStopping = true;
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The last few lines of a worker's output, for a one-line error message. */
export function lastLines(text: string, count = 5): string {
  const lines = text.trim().split("\n").slice(-count);
  return lines.length && lines[0] ? lines.join(" | ") : "(no output)";
}

function describe(config: WorkerConfig): string {
  return `${config.model}@${config.slots.map((slot) => slot.version).join("+")}`;
}
