/** The event stream: server-sent events, one JSON DaemonEvent per `data:` line. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "../context";

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
