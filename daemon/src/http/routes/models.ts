/**
 * Model registry routes (deployments are in deployments.ts):
 *   GET    /api/v1/models                      → RegisteredModel[]
 *   GET    /api/v1/models/:name                → RegisteredModel
 *   POST   /api/v1/models/:name/versions       RegisterRequest → ModelVersion
 *   GET    /api/v1/models/:name/versions/:v    → ModelVersion
 *   GET    /api/v1/models/:name/versions/:v/file → the version's ONNX bytes (MLflow's
 *          get-download-uri names this for a version that is not a logged artifact)
 */
import { existsSync, statSync } from "node:fs";
import { registerRequestSchema, type RegisterRequest } from "../../../../schemas/api";
import type { Context } from "../../context";
import { objectPath } from "../../data/objects";
import type { ShutdownHook } from "../../daemon";
import { LatheError } from "../../errors";
import { getModel, getVersion, listModels } from "../../registry/models";
import { register } from "../../registry/register";
import { sendObject } from "./artifacts";
import { refuseDeploymentRoutes, registerDeploymentRoutes } from "./deployments";
import type { Router } from "../router";

export function registerModelRoutes(
  router: Router,
  ctx: Context,
  onShutdown: (hook: ShutdownHook) => void,
  deployments = true,
): void {
  if (deployments) {
    registerDeploymentRoutes(router, ctx, onShutdown);
  } else {
    refuseDeploymentRoutes(router);
  }

  router.add("GET", "/api/v1/models", () => listModels(ctx));
  router.add("GET", "/api/v1/models/:name", ({ params }) => getModel(ctx, params.name!));
  router.add(
    "POST",
    "/api/v1/models/:name/versions",
    ({ params, body }) => {
      const request = body as RegisterRequest;
      return register(ctx, { model: params.name!, ...request });
    },
    registerRequestSchema,
  );
  router.add("GET", "/api/v1/models/:name/versions/:version", ({ params }) =>
    getVersion(ctx, params.name!, versionNumber(params.version!)),
  );
  router.add("GET", "/api/v1/models/:name/versions/:version/file", async ({ params, res }) => {
    const version = getVersion(ctx, params.name!, versionNumber(params.version!));
    const file = objectPath(ctx.ws, version.oid);
    if (!existsSync(file)) {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `The ONNX file of ${version.model}@${version.version} (${version.oid.slice(0, 12)}) is missing from the content store.`,
        { model: version.model, version: version.version, oid: version.oid },
      );
    }
    const size = statSync(file).size;
    await sendObject(ctx, { path: version.path, oid: version.oid, size }, res);
    return undefined;
  });
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
