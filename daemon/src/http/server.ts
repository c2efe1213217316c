/**
 * The daemon's HTTP server: 127.0.0.1 only, token required, Host and Origin checked, JSON bodies
 * with a size limit, coded errors, one JSON log line per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { LatheError, httpStatus, toLatheError } from "../errors";
import { logRequestDone, type Logger } from "../log";
import { checkBody, type Router } from "./router";

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface HttpOptions {
  router: Router;
  token: string;
  log: Logger;
  port?: number;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startHttp(options: HttpOptions): Promise<RunningServer> {
  const server = createServer((req, res) => void handle(options, req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: HttpOptions, req: IncomingMessage, res: ServerResponse) {
  const started = performance.now();
  const reqId = randomUUID();
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const info = { reqId, method: req.method ?? "GET", route: url.pathname };
  res.setHeader("X-Request-Id", reqId);
  try {
    checkAccess(req, options.token);
    const { route, params } = options.router.match(info.method, url.pathname);
    info.route = route.pattern;
    const body = await readJson(req);
    checkBody(route, body);
    const result = await route.handler({ req, res, params, query: url.searchParams, body, reqId });
    if (result !== undefined && !res.headersSent) {
      sendJson(res, 200, result);
    }
    logRequestDone(options.log, info, res.statusCode, performance.now() - started);
  } catch (err) {
    const error = toLatheError(err);
    const status = httpStatus[error.code];
    if (!res.headersSent) {
      sendJson(res, status, error.toJSON());
    } else {
      res.destroy();
    }
    logRequestDone(options.log, info, status, performance.now() - started, error);
  }
}

/** Host must be our own loopback address; Origin, when a browser sends one, must be too. */
export function checkAccess(req: IncomingMessage, token: string): void {
  const host = req.headers.host ?? "";
  const hostOk = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host);
  if (!hostOk) {
    throw new LatheError("LATHE_FORBIDDEN", `Host '${host}' is not allowed; use 127.0.0.1.`, {
      host,
    });
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    throw new LatheError("LATHE_FORBIDDEN", `Origin '${origin}' is not allowed.`, { origin });
  }
  if (!tokenMatches(req, token)) {
    throw new LatheError(
      "LATHE_UNAUTHORIZED",
      "Missing or wrong token: send 'Authorization: Bearer <token>' with the token from .lathe/daemon.json.",
    );
  }
}

function tokenMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const given = header.startsWith("Bearer ") ? header.slice(7) : "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw new LatheError("LATHE_TOO_LARGE", `Request body over ${MAX_BODY_BYTES} bytes.`, {
      limit: MAX_BODY_BYTES,
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new LatheError("LATHE_TOO_LARGE", `Request body over ${MAX_BODY_BYTES} bytes.`, {
        limit: MAX_BODY_BYTES,
      });
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) {
    return undefined;
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LatheError("LATHE_BAD_INPUT", `Request body is not JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}
