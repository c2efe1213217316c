/** Helpers for the tracking tests: a daemon in a temp workspace and raw HTTP calls to it. */
import { request, type ClientRequest } from "node:http";
import type { DaemonEvent } from "../../schemas/api";
import { daemonIn, removeDir, tempDir } from "../helpers";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  bytes: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface TrackingDaemon {
  root: string;
  port: number;
  token: string;
  url: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply>;
  post(path: string, body: unknown): Promise<Reply>;
  get(path: string, query?: Record<string, string | string[]>): Promise<Reply>;
  close(): Promise<void>;
  daemon: Awaited<ReturnType<typeof daemonIn>>;
}

export async function trackingDaemon(prefix = "lathe-tracking-"): Promise<TrackingDaemon> {
  const root = await tempDir(prefix);
  const daemon = await daemonIn(root);
  const { port, token } = daemon.info;

  const call = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    new Promise<Reply>((resolve, reject) => {
      const payload =
        body === undefined
          ? undefined
          : Buffer.isBuffer(body)
            ? body
            : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path,
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            "Content-Type": "application/json",
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const bytes = Buffer.concat(chunks);
            const text = bytes.toString("utf8");
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, json });
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });

  const get = (path: string, query: Record<string, string | string[]> = {}) => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        qs.append(k, one);
      }
    }
    const q = qs.toString();
    return call("GET", q ? `${path}?${q}` : path);
  };

  return {
    root,
    port,
    token,
    url: daemon.url,
    daemon,
    call,
    post: (path, body) => call("POST", path, body),
    get,
    close: async () => {
      await daemon.close();
      await removeDir(root);
    },
  };
}

export const M = "/api/2.0/mlflow";

/** The daemon's event stream, collected from the moment it is open. */
export interface Stream {
  events: DaemonEvent[];
  until(what: string, found: (events: DaemonEvent[]) => boolean, ms?: number): Promise<void>;
  close(): void;
}

export function subscribe(t: TrackingDaemon): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const events: DaemonEvent[] = [];
    const req: ClientRequest = request(
      {
        host: "127.0.0.1",
        port: t.port,
        path: "/api/v1/events",
        headers: { Authorization: `Bearer ${t.token}` },
      },
      (res) => {
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk: string) => {
          buffer += chunk;
          let match: RegExpExecArray | null;
          while ((match = /^(.*)\n\n/.exec(buffer))) {
            if (match[1]!.startsWith(": connected")) {
              resolve(stream);
            } else if (match[1]!.startsWith("data: ")) {
              events.push(JSON.parse(match[1]!.slice(6)) as DaemonEvent);
            }
            buffer = buffer.slice(match[0].length);
          }
        });
      },
    );
    req.on("error", (err) => (err.message === "socket hang up" ? undefined : reject(err)));
    req.end();
    const stream: Stream = {
      events,
      async until(what, found, ms = 30_000) {
        const deadline = Date.now() + ms;
        while (!found(events)) {
          if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}; heard ${JSON.stringify(events)}`);
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      },
      close: () => req.destroy(),
    };
  });
}
