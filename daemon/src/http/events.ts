/**
 * The event stream: server-sent events, one JSON DaemonEvent per `data:` line. A CLI process
 * beside the daemon reports its own events here too (POST), so the editor hears of a terminal's
 * `lathe repro` as it happens.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ReportEventsRequest } from "../../../schemas/api";
import type { Context } from "../context";
import { requireRun } from "../tracking/records";

export function streamEvents(ctx: Context, _req: IncomingMessage, res: ServerResponse): undefined {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    Connection: "keep-alive",
  });
  res.write(": connected\n\n");
  const off = ctx.events.on((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
  // A comment line every 15 s keeps proxies and idle timers from closing the stream.
  const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
  // The response's close, not the request's: a GET's request is complete at once, and only the
  // response tells when the client or the server's shutdown has dropped the connection.
  res.on("close", () => {
    clearInterval(ping);
    off();
  });
  return undefined;
}

/**
 * Re-emits events a CLI process reports (the body is validated by reportEventsRequestSchema).
 * A reported run must exist in the workspace's database, which the CLI writes before it
 * reports: the stream never announces a run that a listener could not then read.
 */
export function reportEvents(ctx: Context, body: ReportEventsRequest): { emitted: number } {
  for (const event of body.events) {
    if (event.type === "runs/changed") {
      requireRun(ctx.db, event.runId);
    }
  }
  body.events.forEach((event) => ctx.events.emit(event));
  return { emitted: body.events.length };
}
