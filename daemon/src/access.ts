/**
 * Checks every Lathe server applies (the daemon and each serving worker): loopback Host,
 * same-origin Origin, the daemon token; and the one JSON writer they share. A low layer, so that
 * serving/ and http/ both use it without depending on each other.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { LatheError } from "./errors";

/**
 * Host must be our own loopback address and port (a page on another local port that rebinds a
 * name to 127.0.0.1 is not us); Origin, when a browser sends one, must be the same.
 */
export function checkAccess(req: IncomingMessage, token: string): void {
  const host = req.headers.host ?? "";
  const match = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::(\d+))?$/.exec(host);
  const port = req.socket.localPort;
  if (!match || Number(match[1] ?? 80) !== port) {
    throw new LatheError(
      "LATHE_FORBIDDEN",
      `Host '${host}' is not allowed; use 127.0.0.1:${port}.`,
      { host },
    );
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

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendJsonText(res, status, JSON.stringify(value));
}

/** Sends JSON that is already serialized (a large list built by SQLite). */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}
