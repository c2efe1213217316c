/**
 * Reading a serving request's body: the size limit (413 before reading when Content-Length says
 * so, else while reading), the media type (415), and JSON parsing (400).
 */
import type { IncomingMessage } from "node:http";
import { LatheError } from "../errors";

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The body as text; LATHE_TOO_LARGE past MAX_BODY_BYTES. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        req.resume();
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof LatheError) {
      throw err;
    }
    // The client went away mid-body (Node says "aborted"): its fault, not the worker's.
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `The request body ended early (${(err as Error).message}); send the whole body.`,
    );
  }
  return Buffer.concat(chunks).toString("utf8");
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
