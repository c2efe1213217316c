/**
 * Numbers beyond float64's range in JSON text. JSON.parse reads `1e400` as Infinity (and
 * JSON.stringify writes Infinity as null), so a message built from the parsed value would say
 * "null": these find where such a number sits and how it was written, for the message.
 */

/** The first ±Infinity in a parsed JSON value, with its path (`metrics[1].value`). */
export function nonFiniteField(
  value: unknown,
  path = "",
): { path: string; value: number } | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : { path, value };
  }
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const innerPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const found = nonFiniteField(inner, innerPath);
    if (found) {
      return found;
    }
  }
  return undefined;
}

/** The first number literal outside strings whose value overflows, as written in `text`. */
export function firstOverflowingNumber(text: string): string | undefined {
  const tokens = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  for (const [token] of text.matchAll(tokens)) {
    if (!token.startsWith('"') && !Number.isFinite(Number(token))) {
      return token;
    }
  }
  return undefined;
}
