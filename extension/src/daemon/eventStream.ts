/**
 * The daemon's event stream (`GET /api/v1/events`, server-sent events) read with node:http, so
 * the token travels in the Authorization header. One JSON DaemonEvent per `data:` block.
 */
import { request, type ClientRequest } from "node:http";
import type { DaemonEvent, DaemonInfo } from "../../../schemas/api";

export interface EventStreamHandlers {
  onOpen(): void;
  onEvent(event: DaemonEvent): void;
  /** The stream ended or could not be opened; `err` says why when it is known. */
  onClose(err: Error | undefined): void;
}

/** Opens the stream; call the returned function to close it (onClose is then not called). */
export function openEventStream(info: DaemonInfo, handlers: EventStreamHandlers): () => void {
  let closedByUs = false;
  let ended = false;
  const end = (err: Error | undefined) => {
    if (!ended && !closedByUs) {
      ended = true;
      handlers.onClose(err);
    }
  };

  const req: ClientRequest = request(
    {
      host: "127.0.0.1",
      port: info.port,
      method: "GET",
      path: "/api/v1/events",
      headers: { Authorization: `Bearer ${info.token}`, Accept: "text/event-stream" },
    },
    (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        end(new Error(`event stream answered HTTP ${res.statusCode}`));
        return;
      }
      handlers.onOpen();
      const parser = new SseParser((data) => {
        try {
          handlers.onEvent(JSON.parse(data) as DaemonEvent);
        } catch {
          // A malformed event is dropped; the next refresh fetches the truth anyway.
        }
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => parser.push(chunk));
      res.on("end", () => end(undefined));
      res.on("error", (err) => end(err));
    },
  );
  req.on("error", (err) => end(err));
  req.end();

  return () => {
    closedByUs = true;
    req.destroy();
  };
}

/** Splits a server-sent-events byte stream into the data of each event. */
export class SseParser {
  private buffer = "";

  constructor(private readonly onData: (data: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk.replace(/\r\n?/g, "\n");
    let boundary = this.buffer.indexOf("\n\n");
    while (boundary >= 0) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
        .join("\n");
      if (data) {
        this.onData(data);
      }
      boundary = this.buffer.indexOf("\n\n");
    }
  }
}
