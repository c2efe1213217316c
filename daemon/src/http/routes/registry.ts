/**
 * Registry routes (#5): aliases, stages, notes, model cards, the audit log and targets.
 *   GET    /api/v1/models/:name/aliases                    → Record<alias, version>
 *   GET    /api/v1/models/:name/aliases/:alias             → ModelVersion
 *   PUT    /api/v1/models/:name/aliases/:alias             SetAliasRequest → ModelVersion
 *   DELETE /api/v1/models/:name/aliases/:alias             → RegisteredModel
 *   POST   /api/v1/models/:name/aliases/:alias/rollback    RollbackRequest → ModelVersion
 *   PUT    /api/v1/models/:name/versions/:v/stage          SetStageRequest → ModelVersion
 *   PATCH  /api/v1/models/:name/versions/:v                UpdateVersionRequest → ModelVersion
 *   GET    /api/v1/models/:name/card[?version=N|alias=A]   → ModelCardResponse
 *   GET    /api/v1/models/:name/history                    → RegistryAuditEntry[]
 *   GET    /api/v1/targets/:target                         → ResolvedTarget (`name@alias`)
 */
import {
  rollbackRequestSchema,
  setAliasRequestSchema,
  setStageRequestSchema,
  updateVersionRequestSchema,
  type RollbackRequest,
  type SetAliasRequest,
  type SetStageRequest,
  type UpdateVersionRequest,
} from "../../../../schemas/registry";
import type { Context } from "../../context";
import { LatheError } from "../../errors";
import {
  auditLog,
  deleteAlias,
  requireAlias,
  rollbackAlias,
  setAlias,
  setStage,
} from "../../registry/aliases";
import { modelCard } from "../../registry/card";
import { getModel, getVersion } from "../../registry/models";
import { updateVersion } from "../../registry/notes";
import { resolveTarget } from "../../registry/target";
import type { Router } from "../router";

const MODEL = "/api/v1/models/:name";

export function registerRegistryRoutes(router: Router, ctx: Context): void {
  router.add("GET", `${MODEL}/aliases`, ({ params }) => getModel(ctx, params.name!).aliases);
  router.add("GET", `${MODEL}/aliases/:alias`, ({ params }) =>
    getVersion(ctx, params.name!, requireAlias(ctx, params.name!, params.alias!)),
  );
  router.add(
    "PUT",
    `${MODEL}/aliases/:alias`,
    ({ params, body }) => {
      const { version, reason, actor } = body as SetAliasRequest;
      return setAlias(ctx, params.name!, params.alias!, version, { reason, actor: actor ?? "api" });
    },
    setAliasRequestSchema,
  );
  router.add("DELETE", `${MODEL}/aliases/:alias`, ({ params, query }) => {
    const note = { reason: query.get("reason") ?? "", actor: query.get("actor") ?? "api" };
    deleteAlias(ctx, params.name!, params.alias!, note);
    return getModel(ctx, params.name!);
  });
  router.add(
    "POST",
    `${MODEL}/aliases/:alias/rollback`,
    ({ params, body }) => {
      const { reason, actor } = (body ?? {}) as RollbackRequest;
      return rollbackAlias(ctx, params.name!, params.alias!, { reason, actor: actor ?? "api" });
    },
    rollbackRequestSchema,
  );
  router.add(
    "PUT",
    `${MODEL}/versions/:version/stage`,
    ({ params, body }) => {
      const request = body as SetStageRequest;
      return setStage(ctx, params.name!, versionNumber(params.version!), request.stage, {
        reason: request.reason,
        actor: request.actor ?? "api",
        archiveExisting: request.archiveExisting,
      });
    },
    setStageRequestSchema,
  );
  router.add(
    "PATCH",
    `${MODEL}/versions/:version`,
    ({ params, body }) =>
      updateVersion(
        ctx,
        params.name!,
        versionNumber(params.version!),
        body as UpdateVersionRequest,
      ),
    updateVersionRequestSchema,
  );
  router.add("GET", `${MODEL}/card`, ({ params, query }) => {
    const version = query.get("version");
    const alias = query.get("alias");
    if (version !== null && alias !== null) {
      throw new LatheError("LATHE_BAD_INPUT", "Give either ?version= or ?alias=, not both.");
    }
    const suffix =
      version !== null ? `@${versionNumber(version)}` : alias !== null ? `@${alias}` : "";
    return modelCard(ctx, `${params.name!}${suffix}`);
  });
  router.add("GET", `${MODEL}/history`, ({ params, query }) => {
    const limit = query.get("limit");
    return auditLog(ctx, params.name!, limit === null ? undefined : positive(limit, "limit"));
  });
  router.add("GET", "/api/v1/targets/:target", ({ params }) => resolveTarget(ctx, params.target!));
}

function versionNumber(text: string): number {
  return positive(text, "version");
}

function positive(text: string, field: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) {
    throw new LatheError("LATHE_BAD_INPUT", `${field} '${text}' is not a positive integer.`, {
      [field]: text,
    });
  }
  return n;
}
