/**
 * Checks on what training code logs, as MLflow makes them (mlflow/utils/validation.py): key
 * characters and length, value lengths, batch limits, and numbers that may arrive as MLflow's
 * JSON strings ("NaN", "Infinity", "-Infinity", or an int64 as a decimal string).
 */
import { mlflowError } from "./mlflow/errors";

export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 5000;

/** Python's `^[/\w.\- ]*$`: its `\w` is Unicode-aware, so letters of any script pass. */
const KEY_PATTERN = /^[\p{L}\p{N}\p{M}\p{Pc}/.\- ]*$/u;

const BAD_CHARACTERS =
  "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).";

export type KeyKind = "metric" | "parameter" | "tag";

/** Throws INVALID_PARAMETER_VALUE for a key MLflow would refuse. */
export function checkKey(kind: KeyKind, key: unknown): string {
  if (typeof key !== "string") {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `${capital(kind)} name cannot be None. A key name must be provided.`,
    );
  }
  if (!KEY_PATTERN.test(key)) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid ${kind} name: '${key}'. ${BAD_CHARACTERS}`,
    );
  }
  const norm = normpath(key);
  if (norm !== key || norm === "." || norm.startsWith("..") || norm.startsWith("/")) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid ${kind} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
    );
  }
  const what = kind === "metric" ? "Metric name" : kind === "parameter" ? "Param key" : "Tag key";
  checkLength(what, MAX_KEY_LENGTH, key);
  return key;
}

export function checkLength(what: string, limit: number, value: string): void {
  // MLflow counts Python characters (code points), not UTF-16 units.
  const length = [...value].length;
  if (length > limit) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `${what} '${value.slice(0, 250)}' had length ${length}, which exceeded length limit of ${limit}`,
    );
  }
}

/** A string value: param and tag values must be strings, within their length limit. */
export function checkValue(kind: "param" | "tag", key: string, value: unknown): string {
  if (typeof value !== "string") {
    throw mlflowError("INVALID_PARAMETER_VALUE", `The ${kind} '${key}' needs a string value.`);
  }
  const limit = kind === "param" ? MAX_PARAM_VALUE_LENGTH : MAX_TAG_VALUE_LENGTH;
  checkLength(`${capital(kind)} value`, limit, value);
  return value;
}

export function checkBatchLimits(metrics: number, params: number, tags: number): void {
  const limit = (what: string, max: number, n: number) => {
    if (n > max) {
      throw mlflowError(
        "INVALID_PARAMETER_VALUE",
        `A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`,
        { limit: max, count: n },
      );
    }
  };
  limit("metrics", MAX_METRICS_PER_BATCH, metrics);
  limit("params", MAX_PARAMS_TAGS_PER_BATCH, params);
  limit("tags", MAX_PARAMS_TAGS_PER_BATCH, tags);
  limit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, metrics + params + tags);
}

const SPECIAL: Record<string, string> = {
  NaN: "NaN",
  Infinity: "Infinity",
  "-Infinity": "-Infinity",
  Inf: "Infinity",
  "-Inf": "-Infinity",
};

/**
 * A metric value as the store keeps it: a finite number in `value`, or `value` null and `text`
 * spelling NaN or ±Infinity. Accepts JSON numbers and protobuf JSON's strings for doubles.
 */
export function parseMetricValue(
  key: string,
  raw: unknown,
): { value: number | null; text: string | null } {
  if (typeof raw === "string" && raw in SPECIAL) {
    return { value: null, text: SPECIAL[raw]! };
  }
  const n =
    typeof raw === "number"
      ? raw
      : typeof raw === "string" && raw.trim() !== ""
        ? Number(raw)
        : NaN;
  if (Number.isFinite(n)) {
    return { value: n, text: null };
  }
  throw mlflowError(
    "INVALID_PARAMETER_VALUE",
    `Got invalid value ${JSON.stringify(raw)} for metric '${key}'. Please specify value as a valid double (64-bit floating point)`,
    { key },
  );
}

/** An int64 from JSON: a safe integer, or a decimal string of one. */
export function parseInt64(field: string, raw: unknown): number {
  const n = typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof n === "number" && Number.isSafeInteger(n)) {
    return n;
  }
  throw mlflowError(
    "INVALID_PARAMETER_VALUE",
    `Invalid value ${JSON.stringify(raw)} for parameter '${field}' supplied: it must be a 64-bit integer.`,
    { field },
  );
}

/** Python's posixpath.normpath, for the "names must not resolve to other names" rule. */
export function normpath(path: string): string {
  if (path === "") {
    return ".";
  }
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") {
      continue;
    }
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") {
      out.pop();
    } else if (part !== ".." || !absolute) {
      out.push(part);
    }
  }
  const joined = (absolute ? "/" : "") + out.join("/");
  return joined === "" ? "." : joined;
}

function capital(s: string): string {
  return s[0]!.toUpperCase() + s.slice(1);
}
