/**
 * A small router: method + path pattern (`/api/v1/runs/:id`) to a handler that returns a JSON
 * value or throws a LatheError. Parsing, validation and error mapping happen once, here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import Ajv, { type ValidateFunction } from "ajv";
import { LatheError } from "../errors";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body; validated when the route names a schema. */
  body: unknown;
  reqId: string;
}

/** A handler returns the JSON body, or `undefined` when it wrote the response itself (SSE). */
export type Handler = (ctx: RequestContext) => unknown;

export interface RouteOptions {
  /** The handler reads the request body itself (uploads); the server leaves it unparsed. */
  rawBody?: boolean;
}

/** Renders an error in another API's shape (MLflow's `{error_code, message}`) for a path prefix. */
export type ErrorFormatter = (error: LatheError) => { status: number; body: unknown };

interface Route {
  method: string;
  pattern: string;
  parts: string[];
  handler: Handler;
  validate?: ValidateFunction;
  rawBody: boolean;
}

const ajv = new Ajv({ allErrors: true, strict: true });

export class Router {
  private readonly routes: Route[] = [];
  private readonly formatters: { prefix: string; format: ErrorFormatter }[] = [];

  /** A last pattern segment `*name` matches the rest of the path (one or more segments). */
  add(
    method: string,
    pattern: string,
    handler: Handler,
    bodySchema?: object,
    options: RouteOptions = {},
  ): void {
    const validate = bodySchema ? ajv.compile(bodySchema) : undefined;
    const parts = pattern.split("/");
    const rawBody = options.rawBody ?? false;
    this.routes.push({ method, pattern, parts, handler, validate, rawBody });
  }

  /** Errors of every request under `prefix` (routes or not) are rendered by `format`. */
  formatErrorsUnder(prefix: string, format: ErrorFormatter): void {
    this.formatters.push({ prefix, format });
  }

  errorFormatter(path: string): ErrorFormatter | undefined {
    return this.formatters.find((f) => path.startsWith(f.prefix))?.format;
  }

  /** Finds the route for a request; throws 404 or 405 when none fits. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const parts = path.split("/");
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchParts(route.parts, parts);
      if (!params) {
        continue;
      }
      pathMatched = true;
      if (route.method === method) {
        return { route, params };
      }
    }
    if (pathMatched) {
      throw new LatheError("LATHE_BAD_METHOD", `${method} is not allowed on ${path}.`, {
        method,
        path,
      });
    }
    throw new LatheError("LATHE_NOT_FOUND", `No route for ${method} ${path}.`, { method, path });
  }
}

function matchParts(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const rest = pattern[pattern.length - 1]!.startsWith("*");
  if (rest ? parts.length < pattern.length : pattern.length !== parts.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith("*")) {
      const value = decodeAll(parts.slice(i));
      if (value === undefined) {
        return undefined;
      }
      params[p.slice(1)] = value;
    } else if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return undefined; // Malformed escapes cannot name anything we store.
      }
    } else if (p !== v) {
      return undefined;
    }
  }
  return params;
}

function decodeAll(segments: string[]): string | undefined {
  try {
    return segments.map((s) => decodeURIComponent(s)).join("/");
  } catch {
    return undefined; // As for one segment: a malformed escape names nothing.
  }
}

export function checkBody(route: { validate?: ValidateFunction; pattern: string }, body: unknown) {
  if (!route.validate || route.validate(body)) {
    return;
  }
  const first = route.validate.errors?.[0];
  const path = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, ".") : "body";
  // A propertyNames error is about a key, which the instance path does not name.
  const key = first?.propertyName;
  const what = key === undefined ? path : `${path} key '${key}'`;
  const detail =
    first?.params && "additionalProperty" in first.params
      ? `unknown field '${String(first.params.additionalProperty)}'`
      : (first?.message ?? "is invalid") + allowedOf(first?.params);
  throw new LatheError("LATHE_BAD_INPUT", `Request body for ${route.pattern}: ${what} ${detail}.`, {
    field: path,
    ...(key === undefined ? {} : { key }),
    errors: route.validate.errors,
  });
}

/** An enum's values in its error, so the client need not read the schema to fix the request. */
function allowedOf(params: Record<string, unknown> | undefined): string {
  const allowed = params?.allowedValues;
  return Array.isArray(allowed) ? ` (${allowed.map((v) => JSON.stringify(v)).join(", ")})` : "";
}
