/**
 * The daemon's HTTP server: 127.0.0.1 only, token required, Host and Origin checked, JSON bodies
 * with a size limit, coded errors, one JSON log line per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { LatheError, httpStatus, toLatheError } from "../errors";
import { firstOverflowingNumber, nonFiniteField } from "../json-numbers";
import { logRequestDone, type Logger } from "../log";
import { checkAccess, sendJson } from "../access";
import { checkBody, type Router } from "./router";

export { checkAccess, sendJson };

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

/** A fresh bearer token for one server's lifetime. */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export async function startHttp(options: HttpOptions): Promise<RunningServer> {
  const server = createServer((req, res) => void handle(options, req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const port = options.port ?? 0;
      reject(
        err.code === "EADDRINUSE" || err.code === "EACCES"
          ? new LatheError(
              "LATHE_CONFLICT",
              `Cannot listen on 127.0.0.1:${port}: ${err.code === "EADDRINUSE" ? "the port is in use" : "permission denied"}. Pick another --port, or leave it out for any free port.`,
              { port, reason: err.code },
            )
          : err,
      );
    });
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
    const body = route.rawBody ? undefined : await readJson(req);
    checkBody(route, body);
    const result = await route.handler({ req, res, params, query: url.searchParams, body, reqId });
    if (result !== undefined && !res.headersSent) {
      sendJson(res, 200, result);
    }
    logRequestDone(options.log, info, res.statusCode, performance.now() - started);
  } catch (err) {
    const error = toLatheError(err);
    const format = options.router.errorFormatter(url.pathname);
    const { status, body } = format
      ? format(error)
      : { status: httpStatus[error.code], body: error.toJSON() };
    if (!res.headersSent) {
      sendJson(res, status, body);
    } else {
      res.destroy();
    }
    logRequestDone(options.log, info, status, performance.now() - started, error);
  }
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
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new LatheError("LATHE_BAD_INPUT", `Request body is not JSON: ${(err as Error).message}`);
  }
  checkFinite(body, text);
  return body;
}

/**
 * No route takes a number beyond float64's range (`1e400`), which JSON.parse reads as Infinity:
 * refused here, naming the field and the number as sent, before any route says "null".
 */
function checkFinite(body: unknown, text: string): void {
  const found = nonFiniteField(body);
  if (!found) {
    return;
  }
  const typed = firstOverflowingNumber(text) ?? String(found.value);
  const field = found.path || "(the body)";
  const hint = /(^|\.)value$/.test(found.path)
    ? ` (an infinite metric value is sent as the string "${found.value > 0 ? "" : "-"}Infinity")`
    : "";
  throw new LatheError(
    "LATHE_BAD_INPUT",
    `Invalid value ${typed} for field '${field}': it is beyond float64's range (±1.8e308), which JSON reads as ${String(found.value)}. Send a number in range${hint}.`,
    { field, value: typed },
  );
}
