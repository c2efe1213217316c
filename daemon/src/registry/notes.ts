/**
 * What people write on models and versions: descriptions and tags. Versions are otherwise
 * immutable; these notes, the stage and the aliases are the parts that change.
 */
import type { ModelVersion } from "../../../schemas/api";
import type { UpdateVersionRequest } from "../../../schemas/registry";
import type { Context } from "../context";
import { LatheError } from "../errors";
import { checkModelName, getModel, getVersion } from "./models";

/** Sets a version's description and tags, deletes tags; one transaction, one event. */
export function updateVersion(
  ctx: Context,
  model: string,
  version: number,
  update: UpdateVersionRequest,
): ModelVersion {
  const current = getVersion(ctx, model, version);
  for (const key of update.deleteTags ?? []) {
    if (!(key in current.tags)) {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `${model} version ${version} has no tag '${key}'; its tags: ${Object.keys(current.tags).join(", ") || "none"}.`,
        { model, version, tag: key },
      );
    }
  }
  ctx.db
    .transaction(() => {
      const now = Date.now();
      if (update.description !== undefined) {
        ctx.db
          .prepare(
            "UPDATE model_versions SET description = ?, updated_at = ? WHERE model = ? AND version = ?",
          )
          .run(update.description, now, model, version);
      }
      const set = ctx.db.prepare(
        `INSERT INTO model_version_tags (model, version, key, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value`,
      );
      for (const [key, value] of Object.entries(update.tags ?? {})) {
        set.run(model, version, key, value);
      }
      const del = ctx.db.prepare(
        "DELETE FROM model_version_tags WHERE model = ? AND version = ? AND key = ?",
      );
      for (const key of update.deleteTags ?? []) {
        del.run(model, version, key);
      }
      ctx.db
        .prepare("UPDATE model_versions SET updated_at = ? WHERE model = ? AND version = ?")
        .run(now, model, version);
    })
    .immediate();
  ctx.events.emit({ type: "models/changed", model });
  return getVersion(ctx, model, version);
}

/** Creates a model with no versions (MLflow's registered-models/create); LATHE_CONFLICT if taken. */
export function createModel(
  ctx: Context,
  name: string,
  description = "",
  tags: Record<string, string> = {},
): void {
  checkModelName(name);
  ctx.db
    .transaction(() => {
      const exists = ctx.db.prepare("SELECT 1 FROM models WHERE name = ?").get(name);
      if (exists) {
        throw new LatheError("LATHE_CONFLICT", `Registered Model (name=${name}) already exists.`, {
          model: name,
        });
      }
      ctx.db
        .prepare("INSERT INTO models (name, created_at, description) VALUES (?, ?, ?)")
        .run(name, Date.now(), description);
      const set = ctx.db.prepare("INSERT INTO model_tags (model, key, value) VALUES (?, ?, ?)");
      for (const [key, value] of Object.entries(tags)) {
        set.run(name, key, value);
      }
    })
    .immediate();
  ctx.events.emit({ type: "models/changed", model: name });
}

/**
 * Deletes a model with its versions, tags, aliases and audit log. LATHE_CONFLICT while one of
 * its versions is deployed: undeploy first. The content store keeps the bytes (gc decides).
 */
export function deleteModel(ctx: Context, name: string): void {
  getModel(ctx, name);
  const live = ctx.db
    .prepare("SELECT name FROM deployments WHERE model = ? AND state NOT IN ('stopped', 'failed')")
    .all(name) as { name: string }[];
  if (live.length > 0) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `Model '${name}' is deployed (${live.map((d) => d.name).join(", ")}); undeploy it before deleting it.`,
      { model: name },
    );
  }
  ctx.db
    .transaction(() => {
      for (const table of ["model_version_tags", "model_aliases", "model_tags", "registry_audit"]) {
        ctx.db.prepare(`DELETE FROM ${table} WHERE model = ?`).run(name);
      }
      ctx.db.prepare("DELETE FROM model_versions WHERE model = ?").run(name);
      ctx.db.prepare("DELETE FROM models WHERE name = ?").run(name);
    })
    .immediate();
  ctx.events.emit({ type: "models/changed", model: name });
}

/** Sets a model's description and tags, deletes tags (MLflow's registered-models/update, set-tag). */
export function updateModel(
  ctx: Context,
  name: string,
  update: { description?: string; tags?: Record<string, string>; deleteTags?: string[] },
): void {
  const model = getModel(ctx, name);
  for (const key of update.deleteTags ?? []) {
    if (!(key in model.tags)) {
      throw new LatheError("LATHE_NOT_FOUND", `Model '${name}' has no tag '${key}'.`, {
        model: name,
        tag: key,
      });
    }
  }
  ctx.db
    .transaction(() => {
      if (update.description !== undefined) {
        ctx.db
          .prepare("UPDATE models SET description = ? WHERE name = ?")
          .run(update.description, name);
      }
      const set = ctx.db.prepare(
        `INSERT INTO model_tags (model, key, value) VALUES (?, ?, ?)
         ON CONFLICT (model, key) DO UPDATE SET value = excluded.value`,
      );
      for (const [key, value] of Object.entries(update.tags ?? {})) {
        set.run(name, key, value);
      }
      const del = ctx.db.prepare("DELETE FROM model_tags WHERE model = ? AND key = ?");
      for (const key of update.deleteTags ?? []) {
        del.run(name, key);
      }
    })
    .immediate();
  ctx.events.emit({ type: "models/changed", model: name });
}
