/**
 * Every `/api/v1` route, by domain. Each domain module adds its own routes; this file only
 * lists them, so the whole surface is visible in one place.
 */
import {
  API_VERSION,
  reportEventsRequestSchema,
  type Health,
  type ReportEventsRequest,
} from "../../../schemas/api";
import type { Context } from "../context";
import type { ShutdownHook } from "../daemon";
import { LATHE_VERSION } from "../version";
import type { Router } from "./router";
import { reportEvents, streamEvents } from "./events";
import { registerArtifactRoutes } from "./routes/artifacts";
import { registerTrackingRoutes } from "./routes/mlflow";
import { registerMlflowRegistryRoutes } from "./routes/mlflow-registry";
import { registerModelRoutes } from "./routes/models";
import { registerRegistryRoutes } from "./routes/registry";
import { registerRunRoutes } from "./routes/runs";
import { registerTrackingQueryRoutes } from "./routes/tracking";

export interface RoutesOptions {
  /**
   * Serve deployments (default true). Off in a CLI's own server (cli/stage-api.ts): serving
   * workers must outlive the command, and a second Supervisor would mark the daemon's
   * deployments stopped.
   */
  deployments?: boolean;
}

export function registerRoutes(
  router: Router,
  ctx: Context,
  onShutdown: (hook: ShutdownHook) => void,
  options: RoutesOptions = {},
): void {
  router.add("GET", "/api/v1/health", (): Health => ({
    ok: true,
    version: LATHE_VERSION,
    apiVersion: API_VERSION,
    pid: process.pid,
    root: ctx.ws.root,
  }));
  router.add("GET", "/api/v1/events", ({ req, res }) => streamEvents(ctx, req, res));
  // A CLI process's runs/changed and repro/progress, re-emitted on the stream above.
  router.add(
    "POST",
    "/api/v1/events",
    ({ body }) => reportEvents(ctx, body as ReportEventsRequest),
    reportEventsRequestSchema,
  );
  registerRunRoutes(router, ctx, onShutdown); // experiments, runs, pipeline/repro
  registerModelRoutes(router, ctx, onShutdown, options.deployments ?? true); // models, deployments
  registerTrackingRoutes(router, ctx); // MLflow tracking API, mlflow-artifacts, runs/:id/batch
  registerTrackingQueryRoutes(router, ctx); // runs search/compare, metric history, tags, delete
  registerArtifactRoutes(router, ctx); // runs/:id/artifacts: list, upload, download
  registerRegistryRoutes(router, ctx); // aliases, stages, notes, cards, audit log (#5)
  registerMlflowRegistryRoutes(router, ctx); // MLflow model registry API (#5)
}
