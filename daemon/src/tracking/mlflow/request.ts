/**
 * Reading an MLflow request: the JSON body of a POST, or the query of a GET (repeated keys
 * become lists, as MLflow's server reads `order_by` and `experiment_ids`).
 */
import { mlflowError } from "./errors";

export type Request = Record<string, unknown>;

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
  if (typeof value === "number") {
    return String(value); // experiment_id sent as a number by some clients
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
