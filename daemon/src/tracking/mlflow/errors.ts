/**
 * MLflow's error shape for the `/api/2.0/mlflow…` routes: `{error_code, message}` with the HTTP
 * status MLflow gives each code. Inside the daemon they stay LatheErrors; a LatheError may name
 * its MLflow code in `data.mlflowCode`, otherwise the code follows from the Lathe code.
 */
import { LatheError, type ErrorCode } from "../../errors";

export type MlflowErrorCode =
  | "INVALID_PARAMETER_VALUE"
  | "RESOURCE_DOES_NOT_EXIST"
  | "RESOURCE_ALREADY_EXISTS"
  | "ENDPOINT_NOT_FOUND"
  | "BAD_REQUEST"
  | "INVALID_STATE"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "TEMPORARILY_UNAVAILABLE"
  | "INTERNAL_ERROR";

/** MLflow's `ERROR_CODE_TO_HTTP_STATUS` (mlflow/exceptions.py). */
const mlflowStatus: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  ENDPOINT_NOT_FOUND: 404,
  BAD_REQUEST: 400,
  INVALID_STATE: 500,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

const fromLathe: Record<ErrorCode, MlflowErrorCode> = {
  LATHE_BAD_INPUT: "INVALID_PARAMETER_VALUE",
  LATHE_BAD_FILE: "INVALID_PARAMETER_VALUE",
  LATHE_NOT_FOUND: "RESOURCE_DOES_NOT_EXIST",
  // The store's write-once params throw LATHE_CONFLICT; MLflow calls that a bad value.
  LATHE_CONFLICT: "INVALID_PARAMETER_VALUE",
  LATHE_BAD_METHOD: "ENDPOINT_NOT_FOUND",
  LATHE_UNAUTHORIZED: "UNAUTHENTICATED",
  LATHE_FORBIDDEN: "PERMISSION_DENIED",
  LATHE_TOO_LARGE: "INVALID_PARAMETER_VALUE",
  LATHE_BAD_MEDIA_TYPE: "BAD_REQUEST",
  LATHE_UNAVAILABLE: "TEMPORARILY_UNAVAILABLE",
  LATHE_STAGE_FAILED: "INVALID_STATE",
  LATHE_CHECK_FAILED: "INVALID_STATE",
  LATHE_MODEL_LOAD: "INVALID_STATE",
  LATHE_CORRUPT: "INTERNAL_ERROR",
  LATHE_INTERNAL: "INTERNAL_ERROR",
};

/** A LatheError that answers with this MLflow code on the MLflow routes. */
export function mlflowError(
  code: MlflowErrorCode,
  message: string,
  data: Record<string, unknown> = {},
): LatheError {
  const lathe: ErrorCode =
    code === "RESOURCE_DOES_NOT_EXIST"
      ? "LATHE_NOT_FOUND"
      : code === "RESOURCE_ALREADY_EXISTS"
        ? "LATHE_CONFLICT"
        : "LATHE_BAD_INPUT";
  return new LatheError(lathe, message, { ...data, mlflowCode: code });
}

/** The router's error formatter for the MLflow prefixes. */
export function formatMlflowError(error: LatheError): { status: number; body: unknown } {
  const named = error.data.mlflowCode as MlflowErrorCode | undefined;
  const noRoute = error.code === "LATHE_NOT_FOUND" && "method" in error.data;
  const code = named ?? (noRoute ? "ENDPOINT_NOT_FOUND" : fromLathe[error.code]);
  const status = error.code === "LATHE_BAD_METHOD" ? 405 : mlflowStatus[code];
  return { status, body: { error_code: code, message: error.message } };
}
