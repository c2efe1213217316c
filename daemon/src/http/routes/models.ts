/**
 * Model registry and deployment routes:
 *   GET    /api/v1/models                      → RegisteredModel[]
 *   GET    /api/v1/models/:name                → RegisteredModel
 *   POST   /api/v1/models/:name/versions       RegisterRequest → ModelVersion
 *   GET    /api/v1/models/:name/versions/:v    → ModelVersion
 *   GET    /api/v1/deployments                 → Deployment[]
 *   GET    /api/v1/deployments/:name           → Deployment
 *   POST   /api/v1/deployments                 DeployRequest → Deployment (ready)
 *   DELETE /api/v1/deployments/:name           → Deployment (stopped)
 */
import {
  deployRequestSchema,
  registerRequestSchema,
  type DeployRequest,
  type RegisterRequest,
} from "../../../../schemas/api";
import type { Context } from "../../context";
import type { ShutdownHook } from "../../daemon";
import { LatheError } from "../../errors";
import { getModel, getVersion, listModels } from "../../registry/models";
import { register } from "../../registry/register";
import { Supervisor } from "../../serving/supervisor";
import type { Router } from "../router";

export function registerModelRoutes(
  router: Router,
  ctx: Context,
  onShutdown: (hook: ShutdownHook) => void,
): void {
  const supervisor = new Supervisor(ctx);
  onShutdown(() => supervisor.stopAll());

  router.add("GET", "/api/v1/models", () => listModels(ctx));
  router.add("GET", "/api/v1/models/:name", ({ params }) => getModel(ctx, params.name!));
  router.add(
    "POST",
    "/api/v1/models/:name/versions",
    ({ params, body }) => {
      const request = body as RegisterRequest;
      return register(ctx, { model: params.name!, runId: request.runId, path: request.path });
    },
    registerRequestSchema,
  );
  router.add("GET", "/api/v1/models/:name/versions/:version", ({ params }) =>
    getVersion(ctx, params.name!, versionNumber(params.version!)),
  );

  router.add("GET", "/api/v1/deployments", () => supervisor.list());
  router.add("GET", "/api/v1/deployments/:name", ({ params }) => supervisor.get(params.name!));
  router.add(
    "POST",
    "/api/v1/deployments",
    ({ body }) => {
      const request = body as DeployRequest;
      return supervisor.deploy(request.model, request.version, daemonToken(ctx));
    },
    deployRequestSchema,
  );
  router.add("DELETE", "/api/v1/deployments/:name", ({ params }) =>
    supervisor.undeploy(params.name!),
  );
}

function versionNumber(text: string): number {
  const version = Number(text);
  if (!Number.isInteger(version) || version < 1) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${text}' is not a model version (a positive integer).`,
      { version: text },
    );
  }
  return version;
}

/** The daemon's token, which its serving workers require from clients too. */
function daemonToken(ctx: Context): string {
  if (!ctx.daemon) {
    throw new LatheError("LATHE_UNAVAILABLE", "The daemon is still starting; retry the deploy.");
  }
  return ctx.daemon.token;
}
