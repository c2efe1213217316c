/**
 * Native run queries and edits under /api/v1 (issue #3), for the Compare view and the CLI:
 *   GET    /api/v1/runs/:id/metrics/history   ?key=&points=&minStep=&maxStep=&minTime=&maxTime=&x=
 *                                             → MetricHistory
 *   POST   /api/v1/runs/compare               CompareRequest → RunComparison
 *   POST   /api/v1/runs/search                SearchRunsRequest → SearchRunsResult
 *   PUT    /api/v1/runs/:id/tags/:key         SetTagRequest → RunSummary
 *   DELETE /api/v1/runs/:id/tags/:key         → RunSummary
 *   DELETE /api/v1/runs/:id                   soft delete, with its descendants → RunSummary
 *   POST   /api/v1/runs/:id/restore           with what the delete took → RunSummary
 * docs/tracking.md describes them.
 */
import {
  compareRequestSchema,
  searchRunsRequestSchema,
  setTagRequestSchema,
  type CompareRequest,
  type MetricHistory,
  type RunComparison,
  type RunSummary,
  type SearchRunsRequest,
  type SearchRunsResult,
  type SetTagRequest,
} from "../../../../schemas/api";
import type { Context } from "../../context";
import { LatheError } from "../../errors";
import { compareRuns } from "../../tracking/compare";
import { metricHistoryFor, type HistoryQuery } from "../../tracking/history";
import { removeTag, searchRuns, setLifecycle, setTag } from "../../tracking/native";
import type { Router } from "../router";

export function registerTrackingQueryRoutes(router: Router, ctx: Context): void {
  /** A metric's points in a step and time range, downsampled on the server to at most `points`. */
  router.add("GET", "/api/v1/runs/:id/metrics/history", ({ params, query }): MetricHistory =>
    metricHistoryFor(ctx.db, params.id!, historyQuery(query)),
  );

  /** Params and metric summaries of 1 to 50 runs side by side, with what differs. */
  router.add(
    "POST",
    "/api/v1/runs/compare",
    ({ body }): RunComparison => compareRuns(ctx.db, (body as CompareRequest).runIds),
    compareRequestSchema,
  );

  /** MLflow-style filter and order over runs, paged. */
  router.add(
    "POST",
    "/api/v1/runs/search",
    ({ body }): SearchRunsResult =>
      searchRuns(ctx.db, (body as SearchRunsRequest | undefined) ?? {}),
    searchRunsRequestSchema,
  );

  /** Sets a tag; a later value replaces it. */
  router.add(
    "PUT",
    "/api/v1/runs/:id/tags/:key",
    ({ params, body }): RunSummary =>
      setTag(ctx, params.id!, params.key!, (body as SetTagRequest).value),
    setTagRequestSchema,
  );

  /** Removes a tag. */
  router.add("DELETE", "/api/v1/runs/:id/tags/:key", ({ params }): RunSummary =>
    removeTag(ctx, params.id!, params.key!),
  );

  /**
   * Soft-deletes a run and its descendants (a repro's stage runs): hidden from lists and searches
   * unless they ask for deleted runs.
   */
  router.add("DELETE", "/api/v1/runs/:id", ({ params }): RunSummary =>
    setLifecycle(ctx, params.id!, "deleted"),
  );

  /** Brings a deleted run back, with the descendants its delete took. */
  router.add("POST", "/api/v1/runs/:id/restore", ({ params }): RunSummary =>
    setLifecycle(ctx, params.id!, "active"),
  );
}

const HISTORY_PARAMETERS = new Set([
  "key",
  "points",
  "minStep",
  "maxStep",
  "minTime",
  "maxTime",
  "x",
]);

/** The history query string, checked; a 400 names the parameter at fault. */
function historyQuery(query: URLSearchParams): HistoryQuery {
  for (const name of query.keys()) {
    if (!HISTORY_PARAMETERS.has(name)) {
      badParameter(
        name,
        "is not a parameter here; use key, points, minStep, maxStep, minTime, maxTime or x",
      );
    }
  }
  const key = query.get("key");
  if (key === null || key === "") {
    badParameter("key", "is required: the metric's name");
  }
  const x = query.get("x") ?? "step";
  if (x !== "step" && x !== "time") {
    badParameter("x", `must be step or time, not '${x}'`);
  }
  const points = integer(query, "points", 10, 100_000) ?? 2000;
  const [minStep, maxStep] = bounds(query, "minStep", "maxStep");
  const [minTime, maxTime] = bounds(query, "minTime", "maxTime");
  return { key, points, minStep, maxStep, minTime, maxTime, x };
}

/** An optional inclusive range of integers (steps, or Unix milliseconds), low end first. */
function bounds(query: URLSearchParams, lowName: string, highName: string) {
  const low = integer(query, lowName, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const high = integer(query, highName, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (low !== undefined && high !== undefined && low > high) {
    badParameter(lowName, `(${low}) must not be above ${highName} (${high})`);
  }
  return [low, high] as const;
}

function integer(query: URLSearchParams, name: string, min: number, max: number) {
  const raw = query.get(name);
  if (raw === null) {
    return undefined;
  }
  const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = name === "points" ? ` from ${min} to ${max}` : "";
    badParameter(name, `must be an integer${range}, not '${raw}'`);
  }
  return n;
}

function badParameter(name: string, problem: string): never {
  throw new LatheError("LATHE_BAD_INPUT", `Query parameter '${name}' ${problem}.`, {
    parameter: name,
  });
}
