/**
 * Daemon logging: JSON lines through pino. Every decision about which level a request record gets
 * lives here (STYLE 3.9), so a reader looking for why a line appeared finds one place.
 */
import pino from "pino";
import { type LatheError } from "./errors";

export type Logger = pino.Logger;

export function createLogger(options: { level?: string; destination?: string } = {}): Logger {
  const level = options.level ?? process.env.LATHE_LOG_LEVEL ?? "info";
  const dest = options.destination
    ? pino.destination({ dest: options.destination, mkdir: true, sync: true })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: { pid: process.pid }, redact: ["token", "*.token"] }, dest);
}

/** A logger that drops everything: for in-process use by the CLI when no log is wanted. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export interface RequestInfo {
  reqId: string;
  method: string;
  route: string;
}

export function logRequestDone(
  log: Logger,
  req: RequestInfo,
  status: number,
  ms: number,
  err?: LatheError,
): void {
  const fields = { reqId: req.reqId, method: req.method, route: req.route, status, ms };
  if (status >= 500) {
    log.error({ ...fields, err }, "request failed");
  } else if (err) {
    log.info({ ...fields, code: err.code }, "request rejected");
  } else {
    log.info(fields, "request completed");
  }
}
