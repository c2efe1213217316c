/**
 * The one error type the daemon and the CLI throw on purpose. Its code is stable (docs/errors.md
 * lists them), its message is for a person, and its data names the file, field or value at fault.
 */
export type ErrorCode =
  | "LATHE_BAD_INPUT" // a request body, argument or value is wrong
  | "LATHE_BAD_FILE" // a workspace file (lathe.yaml, params.yaml, a pointer) is malformed
  | "LATHE_NOT_FOUND" // a run, model, version, deployment or file does not exist
  | "LATHE_CONFLICT" // the thing exists already, or is in a state that forbids the change
  | "LATHE_BAD_METHOD" // the route exists but not for this HTTP method
  | "LATHE_UNAUTHORIZED" // missing or wrong token
  | "LATHE_FORBIDDEN" // Host or Origin not allowed, or a path outside its root
  | "LATHE_TOO_LARGE" // request body over the limit
  | "LATHE_BAD_MEDIA_TYPE" // a serving request's Content-Type is not one the endpoint reads (#5)
  | "LATHE_UNAVAILABLE" // a queue is full or a worker is not ready
  | "LATHE_STAGE_FAILED" // a pipeline stage exited non-zero
  | "LATHE_CHECK_FAILED" // a gate, validation or --check status did not hold
  | "LATHE_MODEL_LOAD" // onnxruntime could not load a model
  | "LATHE_CORRUPT" // a stored object does not hash to its id
  | "LATHE_INTERNAL"; // a bug: never thrown on purpose

export class LatheError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }

  toJSON(): { code: ErrorCode; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export const httpStatus: Record<ErrorCode, number> = {
  LATHE_BAD_INPUT: 400,
  LATHE_BAD_FILE: 422,
  LATHE_NOT_FOUND: 404,
  LATHE_CONFLICT: 409,
  LATHE_BAD_METHOD: 405,
  LATHE_UNAUTHORIZED: 401,
  LATHE_FORBIDDEN: 403,
  LATHE_TOO_LARGE: 413,
  LATHE_BAD_MEDIA_TYPE: 415,
  LATHE_UNAVAILABLE: 503,
  LATHE_STAGE_FAILED: 422,
  LATHE_CHECK_FAILED: 422,
  LATHE_MODEL_LOAD: 422,
  LATHE_CORRUPT: 500,
  LATHE_INTERNAL: 500,
};

/** CLI exit codes (DESIGN.md): 1 for a check that did not hold, 2 for bad usage or input. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof LatheError)) {
    return 70; // An unexpected crash is neither a failed check nor bad input.
  }
  switch (err.code) {
    case "LATHE_CHECK_FAILED":
      return 1;
    case "LATHE_CORRUPT":
    case "LATHE_INTERNAL":
    case "LATHE_UNAVAILABLE":
      return 1;
    default:
      return 2;
  }
}

export function toLatheError(err: unknown): LatheError {
  if (err instanceof LatheError) {
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  return new LatheError("LATHE_INTERNAL", `Unexpected error: ${message}`);
}
