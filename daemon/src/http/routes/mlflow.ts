/**
 * Tracking routes: the MLflow tracking REST API subset that MLflow's Python client uses
 * (`/api/2.0/mlflow/…`, errors as `{error_code, message}`), MLflow's proxied artifacts
 * (`/api/2.0/mlflow-artifacts/artifacts/…`), and Lathe's own batch API:
 *   POST /api/v1/runs/:id/batch   BatchRequest → BatchResult
 * docs/tracking.md has the table of MLflow endpoints.
 */
import { sendObject } from "./artifacts";
import { batchRequestSchema, type BatchRequest, type BatchResult } from "../../../../schemas/api";
import type { Context } from "../../context";
import {
  artifactAt,
  checkRelative,
  listArtifactDir,
  parseArtifactPath,
  putArtifact,
} from "../../tracking/artifacts";
import { parseBatch, requireActiveRun, writeBatch } from "../../tracking/ingest";
import { artifactUri } from "../../tracking/mlflow/entities";
import { formatMlflowError } from "../../tracking/mlflow/errors";
import {
  createMlflowExperiment,
  getMlflowExperiment,
  getMlflowExperimentByName,
  searchMlflowExperiments,
} from "../../tracking/mlflow/experiments";
import {
  fromBody,
  fromQuery,
  optionalString,
  runIdOf,
  type Request,
} from "../../tracking/mlflow/request";
import {
  createMlflowRun,
  deleteMlflowTag,
  getMlflowRun,
  logMlflowBatch,
  logMlflowMetric,
  logMlflowParam,
  mlflowMetricHistory,
  searchMlflowRuns,
  setMlflowRunLifecycle,
  setMlflowTag,
  updateMlflowRun,
} from "../../tracking/mlflow/runs";
import { requireRun } from "../../tracking/records";
import type { RequestContext, Router } from "../router";

const API = "/api/2.0/mlflow";
const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";

type Endpoint = (ctx: Context, req: Request) => unknown;

export function registerTrackingRoutes(router: Router, ctx: Context): void {
  router.formatErrorsUnder(`${API}/`, formatMlflowError);
  router.formatErrorsUnder(`${ARTIFACTS}`, formatMlflowError);

  const post = (path: string, endpoint: Endpoint) =>
    router.add("POST", `${API}/${path}`, ({ body }) => endpoint(ctx, fromBody(body)));
  const get = (path: string, endpoint: Endpoint) =>
    router.add("GET", `${API}/${path}`, ({ query }) => endpoint(ctx, fromQuery(query)));

  post("experiments/create", createMlflowExperiment);
  get("experiments/get", getMlflowExperiment);
  get("experiments/get-by-name", getMlflowExperimentByName);
  post("experiments/search", searchMlflowExperiments);
  get("experiments/search", searchMlflowExperiments);

  post("runs/create", createMlflowRun);
  get("runs/get", getMlflowRun);
  post("runs/update", updateMlflowRun);
  post("runs/delete", (c, req) => setMlflowRunLifecycle(c, req, true));
  post("runs/restore", (c, req) => setMlflowRunLifecycle(c, req, false));
  post("runs/search", searchMlflowRuns);
  post("runs/log-batch", logMlflowBatch);
  post("runs/log-metric", logMlflowMetric);
  post("runs/log-parameter", logMlflowParam);
  post("runs/set-tag", setMlflowTag);
  post("runs/delete-tag", deleteMlflowTag);
  get("metrics/get-history", mlflowMetricHistory);
  get("artifacts/list", (c, req) => {
    const run = requireRun(c.db, runIdOf(req));
    const path = checkRelative(optionalString(req, "path") ?? "");
    return { root_uri: artifactUri(run), files: listArtifactDir(c.db, run.id, path) };
  });

  registerArtifactRoutes(router, ctx);
  registerBatchRoute(router, ctx);
}

function registerArtifactRoutes(router: Router, ctx: Context): void {
  const upload = async ({ params, req }: RequestContext) => {
    const { runId, path } = parseArtifactPath(params.path!);
    requireActiveRun(ctx, runId);
    await putArtifact(ctx, runId, path, req);
    return {};
  };
  // MLflow's client PUTs; clients before MLflow 2.0 POSTed.
  router.add("PUT", `${ARTIFACTS}/*path`, upload, undefined, { rawBody: true });
  router.add("POST", `${ARTIFACTS}/*path`, upload, undefined, { rawBody: true });

  router.add("GET", `${ARTIFACTS}/*path`, async ({ params, res }) => {
    const { runId, path } = parseArtifactPath(params.path!);
    requireRun(ctx.db, runId);
    await sendObject(ctx, artifactAt(ctx.db, runId, path), res);
    return undefined;
  });

  router.add("GET", ARTIFACTS, ({ query }) => {
    const full = query.get("path") ?? "";
    if (full.split("/").filter((p) => p !== "").length < 3) {
      return {}; // Above a run's artifacts: nothing Lathe lists there.
    }
    const { runId, path } = parseArtifactPath(full);
    requireRun(ctx.db, runId);
    return { files: listArtifactDir(ctx.db, runId, path) };
  });
}

function registerBatchRoute(router: Router, ctx: Context): void {
  router.add(
    "POST",
    "/api/v1/runs/:id/batch",
    ({ params, body }): BatchResult => {
      const request = (body ?? {}) as BatchRequest;
      const runId = params.id!;
      const toList = (map: Record<string, string> = {}) =>
        Object.entries(map).map(([key, value]) => ({ key, value }));
      const batch = parseBatch({
        metrics: (request.metrics ?? []).map((m) => ({ ...m, value: m.value ?? "NaN" })),
        params: toList(request.params),
        tags: toList(request.tags),
      });
      writeBatch(ctx, runId, batch);
      return {
        runId,
        metrics: batch.metrics.length,
        params: batch.params.length,
        tags: batch.tags.length,
      };
    },
    batchRequestSchema,
  );
}
