/**
 * Calling a serving worker from the CLI: POST JSON with the daemon's token, and turn the worker's
 * OIP-style `{ "error": "..." }` answers back into LatheErrors (a 400 stays LATHE_BAD_INPUT, so
 * the CLI exits 2). No native imports: the extension may use this too.
 */
import { request } from "node:http";
import { LatheError, type ErrorCode } from "../errors";

const codesByStatus: Record<number, ErrorCode> = {
  400: "LATHE_BAD_INPUT",
  401: "LATHE_UNAUTHORIZED",
  403: "LATHE_FORBIDDEN",
  404: "LATHE_NOT_FOUND",
  405: "LATHE_BAD_METHOD",
  413: "LATHE_TOO_LARGE",
  415: "LATHE_BAD_MEDIA_TYPE",
  503: "LATHE_UNAVAILABLE",
};

export function postJson<T>(
  url: string,
  token: string,
  body: unknown,
  timeoutMs = 60_000,
): Promise<T> {
  const payload = Buffer.from(JSON.stringify(body));
  const target = new URL(url);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        timeout: timeoutMs,
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          "Content-Length": payload.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 500;
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(
              new LatheError(
                "LATHE_INTERNAL",
                `${url} answered ${status} with non-JSON: ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          if (status >= 400) {
            const message = (parsed as { error?: string }).error ?? `HTTP ${status}`;
            reject(
              new LatheError(codesByStatus[status] ?? "LATHE_INTERNAL", message, { url, status }),
            );
            return;
          }
          resolve(parsed as T);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) =>
      reject(
        new LatheError(
          "LATHE_UNAVAILABLE",
          `Cannot reach the model server at ${url}: ${err.message}`,
        ),
      ),
    );
    req.end(payload);
  });
}
