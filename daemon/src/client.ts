/**
 * Finding, starting and calling a workspace's daemon. Used by the CLI and by the extension, so it
 * must never import a native module (ARCHITECTURE.md): only node:http and the contract.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, closeSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { DaemonInfo, Health } from "../../schemas/api";
import { LatheError, type ErrorCode } from "./errors";

export interface DaemonHandle {
  info: DaemonInfo;
  call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T>;
}

/** Reads `.lathe/daemon.json` and checks that a daemon answers there; undefined when none does. */
export async function findDaemon(root: string): Promise<DaemonHandle | undefined> {
  const file = join(root, ".lathe", "daemon.json");
  if (!existsSync(file)) {
    return undefined;
  }
  let info: DaemonInfo;
  try {
    info = JSON.parse(readFileSync(file, "utf8")) as DaemonInfo;
  } catch {
    return undefined; // Half-written or stale file: treat as no daemon.
  }
  if (!isAlive(info.pid)) {
    return undefined;
  }
  const handle = connect(info);
  try {
    await handle.call<Health>("GET", "/api/v1/health", undefined, 2000);
    return handle;
  } catch {
    return undefined;
  }
}

export interface StartOptions {
  /** The node binary to run the daemon with (setting `lathe.nodePath`). */
  nodePath?: string;
  /** The bundled CLI script (dist/lathe.js). */
  cliScript: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Starts a detached daemon for `root` and waits until daemon.json names a live one. */
export async function startDaemonProcess(
  root: string,
  options: StartOptions,
): Promise<DaemonHandle> {
  const logs = join(root, ".lathe", "logs");
  mkdirSync(logs, { recursive: true });
  const out = openSync(join(logs, "daemon.log"), "a");
  const nodePath = options.nodePath ?? process.execPath;
  const child = spawn(nodePath, [options.cliScript, "daemon", "--root", root], {
    cwd: root,
    detached: true,
    stdio: ["ignore", out, out],
    // Desktop VS Code's execPath is Electron; this makes it behave as node when used as fallback.
    env: { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: "1" },
  });
  closeSync(out);
  const state: { exited: number | null; error?: Error } = { exited: null };
  child.once("exit", (code) => (state.exited = code ?? -1));
  // A missing node binary surfaces as 'error', not 'exit'; without a listener it would crash us.
  child.once("error", (err) => {
    state.error = err;
    state.exited = -1;
  });
  child.unref();

  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (state.error) {
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        `Cannot start the Lathe daemon with '${nodePath}': ${state.error.message}. Set lathe.nodePath to a Node.js 20 binary.`,
        { nodePath },
      );
    }
    if (state.exited !== null) {
      // A daemon started by someone else at the same moment wins the workspace and ours
      // refuses to start (claim.ts): use that one.
      const other = await findDaemon(root);
      if (other) {
        return other;
      }
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        `The Lathe daemon exited with code ${state.exited} during start; see ${join(logs, "daemon.log")}.`,
        { log: join(logs, "daemon.log") },
      );
    }
    const handle = await findDaemon(root);
    if (handle && handle.info.pid === child.pid) {
      return handle;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new LatheError(
    "LATHE_UNAVAILABLE",
    `The Lathe daemon did not start within the time limit; see ${join(logs, "daemon.log")}.`,
  );
}

/** Sends the daemon SIGTERM (it stops its deployments and removes daemon.json) and waits for it. */
export async function stopDaemon(handle: DaemonHandle, timeoutMs = 10_000): Promise<void> {
  const { pid } = handle.info;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function connect(info: DaemonInfo): DaemonHandle {
  return {
    info,
    call: <T>(method: string, path: string, body?: unknown, timeoutMs = 300_000) =>
      callJson<T>(info, method, path, body, timeoutMs),
  };
}

function callJson<T>(
  info: DaemonInfo,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: info.port,
        method,
        path,
        timeout: timeoutMs,
        headers: {
          Authorization: `Bearer ${info.token}`,
          ...(payload
            ? { "Content-Type": "application/json", "Content-Length": payload.length }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            reject(
              new LatheError(
                "LATHE_INTERNAL",
                `Daemon answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          if ((res.statusCode ?? 500) >= 400) {
            const e = parsed as {
              code?: ErrorCode;
              message?: string;
              data?: Record<string, unknown>;
            };
            reject(
              new LatheError(
                e?.code ?? "LATHE_INTERNAL",
                e?.message ?? `HTTP ${res.statusCode}`,
                e?.data ?? {},
              ),
            );
            return;
          }
          resolve(parsed as T);
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`no answer from the daemon within ${timeoutMs} ms`)),
    );
    req.on("error", (err) =>
      reject(
        new LatheError(
          "LATHE_UNAVAILABLE",
          `Cannot reach the Lathe daemon at 127.0.0.1:${info.port}: ${err.message}`,
        ),
      ),
    );
    req.end(payload);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
