/**
 * Renaming a model and deleting one of its versions (MLflow's registered-models/rename and
 * model-versions/delete). Each is one transaction over every table keyed by the model's name,
 * written to the audit log, and refused while a live deployment would lose what it serves.
 */
import type { ModelVersion } from "../../../schemas/api";
import type { Context } from "../context";
import { LatheError } from "../errors";
import { trafficOf, type DeploymentRow } from "../serving/rows";
import { audit, type MoveNote } from "./aliases";
import { checkModelName, getModel, getVersion } from "./models";

/** Tables whose `model` column holds the name; `models.name` and `deployments` are done apart. */
const KEYED_BY_MODEL = [
  "model_versions",
  "model_tags",
  "model_version_tags",
  "model_aliases",
  "registry_audit",
];

/**
 * Renames `name` to `newName`: versions, tags, aliases, stages, the audit log and the model's
 * stopped deployment follow the new name. LATHE_CONFLICT when `newName` is taken, or while the
 * model is deployed (its worker serves under the old name: undeploy, rename, deploy again).
 */
export function renameModel(ctx: Context, name: string, newName: string, note: MoveNote = {}) {
  getModel(ctx, name); // Unknown: LATHE_NOT_FOUND.
  checkModelName(newName);
  if (newName === name) {
    return getModel(ctx, name);
  }
  if (ctx.db.prepare("SELECT 1 FROM models WHERE name = ?").get(newName)) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `Registered Model (name=${newName}) already exists; pick another name or delete that model first.`,
      // MLflow answers a taken name with RESOURCE_ALREADY_EXISTS (mlflow/errors.ts reads this).
      { model: name, newName, mlflowCode: "RESOURCE_ALREADY_EXISTS" },
    );
  }
  // FIXME(#5): a live deployment should follow the rename too (the supervisor moving its worker
  // to the new name, in its per-name queue) instead of the rename being refused.
  const live = liveDeployments(ctx, name);
  if (live.length > 0) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `Model '${name}' is deployed (${live.map((d) => d.name).join(", ")}); undeploy it before renaming it, then deploy '${newName}'.`,
      { model: name, newName },
    );
  }
  const stale = ctx.db.prepare("SELECT state FROM deployments WHERE name = ?").get(newName) as
    { state: string } | undefined;
  if (stale && stale.state !== "stopped" && stale.state !== "failed") {
    throw new LatheError(
      "LATHE_CONFLICT",
      `A deployment named '${newName}' is live; undeploy it before renaming '${name}' to that name.`,
      { model: name, newName },
    );
  }
  const deployments = ctx.db
    .prepare("SELECT * FROM deployments WHERE model = ?")
    .all(name) as DeploymentRow[];

  ctx.db
    .transaction(() => {
      // The child tables reference models(name) without ON UPDATE CASCADE; the keys agree
      // again once every table is updated, which SQLite checks at commit.
      ctx.db.pragma("defer_foreign_keys = ON");
      ctx.db.prepare("UPDATE models SET name = ? WHERE name = ?").run(newName, name);
      for (const table of KEYED_BY_MODEL) {
        ctx.db.prepare(`UPDATE ${table} SET model = ? WHERE model = ?`).run(newName, name);
      }
      // A stopped deployment of a model deleted earlier may hold the new name: its model is gone.
      ctx.db.prepare("DELETE FROM deployments WHERE name = ? AND model <> ?").run(newName, name);
      const move = ctx.db.prepare(
        "UPDATE deployments SET name = ?, model = ?, target = ? WHERE name = ?",
      );
      for (const d of deployments) {
        const renamed = d.name === name ? newName : d.name;
        move.run(renamed, newName, renameTarget(d.target, name, newName), d.name);
      }
      audit(ctx, newName, "rename", "name", name, newName, note);
    })
    .immediate();
  ctx.log.info({ model: name, newName }, "model renamed");
  ctx.events.emit({ type: "models/changed", model: name });
  ctx.events.emit({ type: "models/changed", model: newName });
  for (const d of deployments) {
    ctx.events.emit({ type: "deployments/changed", name: d.name });
    ctx.events.emit({ type: "deployments/changed", name: d.name === name ? newName : d.name });
  }
  return getModel(ctx, newName);
}

/**
 * Deletes one version with its tags; aliases that point at it are dropped (as MLflow does),
 * each drop and the deletion written to the audit log. LATHE_CONFLICT while a deployment that
 * is not stopped serves the version. The content store keeps the bytes (gc decides).
 */
export function deleteVersion(
  ctx: Context,
  model: string,
  version: number,
  note: MoveNote = {},
): { deleted: ModelVersion; droppedAliases: string[] } {
  const current = getVersion(ctx, model, version); // Unknown: LATHE_NOT_FOUND.
  const serving = (
    ctx.db
      .prepare("SELECT * FROM deployments WHERE model = ? AND state <> 'stopped'")
      .all(model) as DeploymentRow[]
  ).filter((d) => trafficOf(d).some((t) => t.version === version));
  if (serving.length > 0) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `Version ${version} of '${model}' is served by deployment ${serving.map((d) => `'${d.name}' (${d.state})`).join(", ")}; undeploy it or deploy another version before deleting this one.`,
      { model, version, deployments: serving.map((d) => d.name) },
    );
  }
  const droppedAliases = current.aliases;
  const reason = note.reason || `version ${version} deleted`;
  ctx.db
    .transaction(() => {
      for (const alias of droppedAliases) {
        audit(ctx, model, "alias", alias, version, null, { ...note, reason });
      }
      ctx.db
        .prepare("DELETE FROM model_aliases WHERE model = ? AND version = ?")
        .run(model, version);
      ctx.db
        .prepare("DELETE FROM model_version_tags WHERE model = ? AND version = ?")
        .run(model, version);
      ctx.db
        .prepare("DELETE FROM model_versions WHERE model = ? AND version = ?")
        .run(model, version);
      audit(ctx, model, "version", String(version), current.stage, null, note);
    })
    .immediate();
  ctx.log.info({ model, version, droppedAliases }, "model version deleted");
  for (const alias of droppedAliases) {
    ctx.events.emit({
      type: "models/changed",
      model,
      alias: { name: alias, from: version, to: null },
    });
  }
  ctx.events.emit({ type: "models/changed", model });
  return { deleted: current, droppedAliases };
}

/** Only its deployments that are not stopped or failed: a worker serves them under the name. */
function liveDeployments(ctx: Context, model: string): { name: string }[] {
  return ctx.db
    .prepare("SELECT name FROM deployments WHERE model = ? AND state NOT IN ('stopped', 'failed')")
    .all(model) as { name: string }[];
}

/** `old`, `old@3`, `old@alias` → the same under `newName`; anything else is left as it was. */
function renameTarget(target: string | null, old: string, newName: string): string | null {
  if (target === null) {
    return null;
  }
  if (target === old || target.startsWith(`${old}@`)) {
    return newName + target.slice(old.length);
  }
  return target;
}
