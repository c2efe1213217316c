/**
 * The daemon process: one per workspace. Starts the HTTP server on 127.0.0.1, writes
 * `.lathe/daemon.json` (0600) once it answers, removes it on exit, shuts down on SIGTERM.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { API_VERSION, type DaemonInfo } from "../../schemas/api";
import { claimWorkspace } from "./claim";
import { closeContext, openContext, type Context } from "./context";
import { startRollupFolder } from "./tracking/rollup-folder";
import { watchPipeline } from "./pipeline/watch";
import { registerRoutes } from "./http/routes";
import { Router } from "./http/router";
import { newToken, startHttp } from "./http/server";
import { createLogger, type Logger } from "./log";
import { LATHE_VERSION } from "./version";

export interface DaemonOptions {
  root: string;
  port?: number;
  log?: Logger;
  /** Write .lathe/daemon.json (default true). Tests that run several daemons may turn it off. */
  writeInfo?: boolean;
}

export interface RunningDaemon {
  ctx: Context;
  info: DaemonInfo;
  url: string;
  close(): Promise<void>;
}

/** Shutdown hooks that services register (stop serving workers, cancel runs). */
export type ShutdownHook = () => Promise<void> | void;

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const log = options.log ?? createLogger();
  const ctx = openContext(options.root, { log });
  // Services' hooks run first, then the daemon's own (`last`): daemon.json goes, the HTTP server
  // closes and the workspace claim is released. Each list runs newest first.
  const hooks: ShutdownHook[] = [];
  const last: ShutdownHook[] = [];
  const unwind = async () => {
    for (const hook of [...hooks.splice(0).reverse(), ...last.splice(0).reverse()]) {
      await hook();
    }
  };

  try {
    return await serve(ctx, options, log, { hooks, last }, unwind);
  } catch (err) {
    // A daemon that cannot start must not linger: release what it holds so the process exits.
    await unwind().catch((e: unknown) => log.warn({ err: e }, "cleanup after a failed start"));
    closeContext(ctx);
    throw err;
  }
}

async function serve(
  ctx: Context,
  options: DaemonOptions,
  log: Logger,
  { hooks, last }: { hooks: ShutdownHook[]; last: ShutdownHook[] },
  unwind: () => Promise<void>,
): Promise<RunningDaemon> {
  const writeInfo = options.writeInfo !== false;
  if (writeInfo) {
    // First in, so released last (and also when the start fails after this point).
    last.push(claimWorkspace(ctx.ws));
  }
  const token = newToken();
  const router = new Router();
  registerRoutes(router, ctx, (hook) => hooks.push(hook));
  const watcher = await watchPipeline(ctx.ws.root, (path) =>
    ctx.events.emit({ type: "pipeline/changed", path }),
  );
  hooks.push(() => watcher.close());
  hooks.push(startRollupFolder(ctx));
  const http = await startHttp({ router, token, log, port: options.port });
  last.push(() => http.close());
  ctx.daemon = { url: `http://127.0.0.1:${http.port}`, token };

  const info: DaemonInfo = {
    pid: process.pid,
    port: http.port,
    token,
    version: LATHE_VERSION,
    apiVersion: API_VERSION,
    root: ctx.ws.root,
    startedAt: new Date().toISOString(),
  };
  if (writeInfo) {
    writeDaemonInfo(ctx.ws.daemonFile, info);
    last.push(() => removeDaemonInfo(ctx.ws.daemonFile, process.pid));
  }
  log.info({ port: http.port, root: ctx.ws.root, version: LATHE_VERSION }, "daemon ready");

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info("daemon stopping");
      await unwind();
      closeContext(ctx);
      log.info("daemon stopped");
    })());

  return { ctx, info, url: `http://127.0.0.1:${http.port}`, close };
}

function writeDaemonInfo(path: string, info: DaemonInfo): void {
  mkdirSync(new URL(".", `file://${path}`).pathname, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(info, null, 2), { mode: 0o600 });
  renameSync(temp, path);
}

/** Removes daemon.json only if it is still ours: a newer daemon may have replaced it. */
function removeDaemonInfo(path: string, pid: number): void {
  try {
    const current = JSON.parse(readFileSync(path, "utf8")) as DaemonInfo;
    if (current.pid === pid) {
      rmSync(path, { force: true });
    }
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

/** Runs the daemon until SIGTERM or SIGINT; used by `lathe daemon`. */
export async function runDaemonForever(options: DaemonOptions): Promise<RunningDaemon> {
  const daemon = await startDaemon(options);
  const stop = () => {
    void daemon.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return daemon;
}
