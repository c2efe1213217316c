/**
 * Helpers for the serving tests (#5): a daemon with registered versions deployed, and raw HTTP
 * calls to its worker with keep-alive (as real clients do) or without.
 */
import type { Agent } from "node:http";
import { request } from "node:http";
import type { Deployment, DeployRequest } from "../../schemas/api";
import { seedRun } from "../fixtures/onnx";
import { daemonIn, removeDir, tempDir } from "../helpers";

export type TestDaemon = Awaited<ReturnType<typeof daemonIn>>;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** One HTTP request; `body` a string is sent as is, anything else as JSON. */
export function send(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; agent?: Agent | false } = {},
): Promise<Reply> {
  const { body } = options;
  const payload =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        agent: options.agent,
        headers: { "Content-Type": "application/json", ...options.headers },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // Text answers (/metrics, /ping) have no JSON to read.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** A daemon in a fresh workspace, closed (stopping its workers) even when the test fails. */
export async function withDaemon(fn: (daemon: TestDaemon) => Promise<void>): Promise<void> {
  const root = await tempDir();
  const daemon = await daemonIn(root);
  try {
    await fn(daemon);
  } finally {
    await daemon.close();
    await removeDir(root);
  }
}

/** Registers each model's bytes as the next version of `name`. */
export async function registerVersions(
  daemon: TestDaemon,
  name: string,
  models: Uint8Array[],
): Promise<void> {
  for (const bytes of models) {
    const run = seedRun(daemon.ctx.db, daemon.ctx.ws.objectsDir, bytes);
    await daemon.client.call("POST", `/api/v1/models/${name}/versions`, { runId: run.runId });
  }
}

export function deploy(daemon: TestDaemon, request: DeployRequest): Promise<Deployment> {
  return daemon.client.call<Deployment>("POST", "/api/v1/deployments", request);
}

/** A client bound to one deployment's port with the daemon's token. */
export function workerClient(daemon: TestDaemon, port: number) {
  const auth = { Authorization: `Bearer ${daemon.info.token}` };
  return (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    agent?: Agent | false,
  ) => send(port, method, path, { headers: { ...auth, ...headers }, body, agent });
}

export const weatherRows = [
  [0, 12.8, 5, 4.7],
  [10.9, 10.6, 2.8, 4.5],
  [0.8, 11.7, 7.2, 2.3],
];

export const weatherRecords = weatherRows.map(([precipitation, temp_max, temp_min, wind]) => ({
  precipitation,
  temp_max,
  temp_min,
  wind,
}));

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
