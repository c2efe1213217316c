/**
 * Reading an MLflow request: the JSON body of a POST, or the query of a GET (repeated keys
 * become lists, as MLflow's server reads `order_by` and `experiment_ids`).
 */
import { parseInt64 } from "../validate";
import { mlflowError } from "./errors";

export type Request = Record<string, unknown>;

/**
 * Fields some clients send as JSON numbers though MLflow's protos make them strings (an
 * experiment id, a model version, a registry search's max_results): taken as their decimal
 * string. Any other string field refuses a number, as MLflow's JSON parsing does.
 */
const NUMBERS_AS_STRINGS = new Set(["experiment_id", "version", "max_results"]);

export function fromQuery(query: URLSearchParams): Request {
  const req: Request = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    req[key] = values.length === 1 ? values[0] : values;
  }
  return req;
}

export function fromBody(body: unknown): Request {
  if (body === undefined) {
    return {};
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw mlflowError("INVALID_PARAMETER_VALUE", "The request body must be a JSON object.");
  }
  return body as Request;
}

export function optionalString(req: Request, field: string): string | undefined {
  const value = req[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value === "number" && NUMBERS_AS_STRINGS.has(field)) {
    return String(value);
  }
  if (typeof value !== "string") {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: it must be a string.`,
    );
  }
  return value;
}

export function requiredString(req: Request, field: string): string {
  const value = optionalString(req, field);
  if (value === undefined || value === "") {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`,
    );
  }
  return value;
}

/** `run_id`, or the deprecated `run_uuid` that older clients still send. */
export function runIdOf(req: Request): string {
  return (
    optionalString(req, "run_id") ||
    optionalString(req, "run_uuid") ||
    requiredString(req, "run_id")
  );
}

/** A list field: missing is empty; a single query value is a list of one. */
export function list(req: Request, field: string): unknown[] {
  const value = req[field];
  if (value === undefined || value === null) {
    return [];
  }
  if (Array.isArray(value)) {
    return value;
  }
  if (typeof value === "string" || typeof value === "number") {
    return [value];
  }
  throw mlflowError(
    "INVALID_PARAMETER_VALUE",
    `Invalid value for parameter '${field}' supplied: it must be a list.`,
  );
}

/** An int64 field; null is unset, as MLflow's JSON parsing leaves a null field unset. */
export function optionalInt64(req: Request, field: string): number | undefined {
  const value = req[field];
  return value === undefined || value === null ? undefined : parseInt64(field, value);
}

/**
 * A page size: `fallback` when unset; 400 below 1 (a page of none would come back with a token
 * for the same place, and a client following tokens would never stop) or above `limit`.
 */
export function maxResults(req: Request, fallback: number, limit?: number): number {
  const max = optionalInt64(req, "max_results") ?? fallback;
  if (max < 1 || (limit !== undefined && max > limit)) {
    const range = limit === undefined ? "" : ` It must be at most ${limit}, and at least 1.`;
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid value ${max} for parameter 'max_results' supplied.${range || " It must be at least 1."}`,
      { field: "max_results" },
    );
  }
  return max;
}
