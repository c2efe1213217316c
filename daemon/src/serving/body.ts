/**
 * Reading a serving request's body: the size limit (413 before reading when Content-Length says
 * so, else while reading), the media type (415), and JSON parsing (400).
 */
import type { IncomingMessage } from "node:http";
import { LatheError } from "../errors";

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The body as text; LATHE_TOO_LARGE past MAX_BODY_BYTES. Read with listeners rather than an
 * async iterator: thousands of small bodies a second, and the iterator cost a tenth of the HTTP
 * thread's time (bench/serving.ts).
 */
export function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done();
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(
        chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"),
      );
    };
    // The client went away mid-body (Node says "aborted"): its fault, not the worker's.
    const onError = (err: Error) => {
      done();
      reject(
        new LatheError(
          "LATHE_BAD_INPUT",
          `The request body ended early (${err.message}); send the whole body.`,
        ),
      );
    };
    const onClose = () => {
      if (!req.complete) {
        onError(new Error("aborted"));
      }
    };
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * The request's media type, lower-cased without parameters; LATHE_BAD_MEDIA_TYPE (415) unless it
 * is one of `allowed`. A missing Content-Type counts as the first allowed one unless `isRequired`.
 */
export function requireMediaType(
  req: IncomingMessage,
  allowed: string[],
  isRequired = false,
): string {
  const header = req.headers["content-type"];
  if (header === undefined && !isRequired) {
    return allowed[0]!;
  }
  const mediaType = (header ?? "").split(";")[0]!.trim().toLowerCase();
  if (!allowed.includes(mediaType)) {
    req.resume();
    throw new LatheError(
      "LATHE_BAD_MEDIA_TYPE",
      `Content-Type '${header ?? ""}' is not supported here; send ${allowed.join(" or ")}.`,
      { contentType: header ?? null },
    );
  }
  return mediaType;
}

export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LatheError("LATHE_BAD_INPUT", `Request body is not JSON: ${(err as Error).message}`);
  }
}

function tooLarge(): LatheError {
  return new LatheError("LATHE_TOO_LARGE", `Request body over ${MAX_BODY_BYTES} bytes.`, {
    limit: MAX_BODY_BYTES,
  });
}
