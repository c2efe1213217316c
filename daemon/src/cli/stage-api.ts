/**
 * The API a CLI repro's stages log to when no daemon serves the workspace (a terminal, CI).
 * Stages get LATHE_API and MLFLOW_TRACKING_URI either way: without a daemon, this process serves
 * the daemon's routes itself (the same router and server, a fresh token, 127.0.0.1 on a free
 * port, the same Host, Origin and token checks) until the repro ends. It is not the workspace's
 * daemon: it writes no daemon.json and claims nothing (claim.ts), so discovery never finds it
 * and a daemon may start meanwhile. Both write the same SQLite file (WAL), as CLI and daemon
 * always do. Deployments are refused: they must outlive the command.
 */
import type { Context } from "../context";
import type { ShutdownHook } from "../daemon";
import { Router } from "../http/router";
import { registerRoutes } from "../http/routes";
import { newToken, startHttp } from "../http/server";

export interface StageApi {
  url: string;
  token: string;
  /** Stops listening, drops open connections and ends the routes' work; safe to call twice. */
  close(): Promise<void>;
}

export async function serveStageApi(ctx: Context): Promise<StageApi> {
  const token = newToken();
  const hooks: ShutdownHook[] = [];
  const router = new Router();
  registerRoutes(router, ctx, (hook) => hooks.push(hook), { deployments: false });
  const http = await startHttp({ router, token, log: ctx.log });
  ctx.log.debug({ port: http.port }, "serving the API for the repro's stages");
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${http.port}`,
    token,
    close: () =>
      (closing ??= (async () => {
        // In the daemon's order: the routes' own hooks, newest first, then the server.
        for (const hook of hooks.splice(0).reverse()) {
          await hook();
        }
        await http.close();
      })()),
  };
}
