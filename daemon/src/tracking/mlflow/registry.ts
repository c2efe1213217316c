/**
 * MLflow's model registry REST calls (model_registry.proto), over Lathe's registry: registered
 * models and versions in MLflow's JSON (version numbers as strings, tags as key/value lists,
 * `status: READY` since a version is ready once registered), and aliases.
 */
import type { ModelVersion, RegisteredModel } from "../../../../schemas/api";
import { MODEL_STAGES } from "../../../../schemas/registry";
import type { Context } from "../../context";
import { LatheError } from "../../errors";
import { deleteAlias, requireAlias, setAlias, setStage } from "../../registry/aliases";
import { getModel, getVersion, listModels } from "../../registry/models";
import { createModel, deleteModel, updateModel, updateVersion } from "../../registry/notes";
import { deleteVersion, renameModel } from "../../registry/lifecycle";
import { register } from "../../registry/register";
import { requireRun } from "../records";
import { mlflowError } from "./errors";
import { toMlflowModel, toMlflowVersion } from "./registry-entities";
import { list, optionalString, requiredString, type Request } from "./request";
import { modelSearch, versionSearch } from "./registry-search";

const ACTOR = "mlflow client";

export function createRegisteredModel(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  try {
    createModel(ctx, name, optionalString(req, "description") ?? "", tagMap(req.tags));
  } catch (err) {
    if (err instanceof LatheError && err.code === "LATHE_CONFLICT") {
      throw mlflowError("RESOURCE_ALREADY_EXISTS", err.message);
    }
    throw err;
  }
  return { registered_model: toMlflowModel(getModel(ctx, name)) };
}

export function getRegisteredModel(ctx: Context, req: Request): unknown {
  return { registered_model: toMlflowModel(knownModel(ctx, requiredString(req, "name"))) };
}

export function deleteRegisteredModel(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  deleteModel(ctx, name);
  return {};
}

/** MLflow's registered-models/rename: `name`, `new_name` → the renamed RegisteredModel. */
export function renameRegisteredModel(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  const newName = requiredString(req, "new_name");
  knownModel(ctx, name);
  return { registered_model: toMlflowModel(renameModel(ctx, name, newName, { actor: ACTOR })) };
}

export function searchRegisteredModels(ctx: Context, req: Request): unknown {
  const { items, next } = modelSearch(listModels(ctx), req);
  return {
    registered_models: items.map(toMlflowModel),
    ...(next ? { next_page_token: next } : {}),
  };
}

/**
 * `source` is the run's artifact or output the version holds: `runs:/<run>/<path>`,
 * `mlflow-artifacts:/<experiment>/<run>/artifacts/<path>`, or a path inside the run.
 */
export function createModelVersion(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const source = requiredString(req, "source");
  const { runId, path } = parseSource(source, optionalString(req, "run_id"));
  const version = register(ctx, {
    model: name,
    runId,
    path,
    description: optionalString(req, "description"),
    tags: tagMap(req.tags),
  });
  return { model_version: toMlflowVersion(version) };
}

export function getModelVersion(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  return { model_version: toMlflowVersion(knownVersion(ctx, name, versionOf(req))) };
}

/** MLflow's model-versions/delete; aliases that point at the version are dropped with it. */
export function deleteModelVersion(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const version = knownVersion(ctx, name, versionOf(req));
  deleteVersion(ctx, name, version.version, { actor: ACTOR });
  return {};
}

/**
 * MLflow's model-versions/get-download-uri. A version registered from a logged artifact answers
 * its `mlflow-artifacts:` URI, which the artifact routes serve; one registered from a pipeline
 * output (not an artifact) answers the daemon's own URL of the version's ONNX file.
 */
export function getDownloadUri(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const version = knownVersion(ctx, name, versionOf(req));
  const artifact = ctx.db
    .prepare("SELECT 1 FROM artifacts WHERE run_id = ? AND path = ? AND oid = ?")
    .get(version.runId, version.path, version.oid);
  if (artifact) {
    const run = requireRun(ctx.db, version.runId);
    return {
      artifact_uri: `mlflow-artifacts:/${run.experimentId}/${run.id}/artifacts/${version.path}`,
    };
  }
  const base = ctx.daemon?.url ?? "";
  const path = `/api/v1/models/${encodeURIComponent(name)}/versions/${version.version}/file`;
  return { artifact_uri: `${base}${path}` };
}

export function searchModelVersions(ctx: Context, req: Request): unknown {
  const all = listModels(ctx).flatMap((m) => m.versions);
  const { items, next } = versionSearch(all, req);
  return { model_versions: items.map(toMlflowVersion), ...(next ? { next_page_token: next } : {}) };
}

export function transitionStage(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const stage = requiredString(req, "stage");
  const canonical = MODEL_STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!canonical) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid Model Version stage: ${stage}. Value must be one of ${MODEL_STAGES.join(", ")}.`,
    );
  }
  const archive =
    req.archive_existing_versions === true || req.archive_existing_versions === "true";
  const version = knownVersion(ctx, name, versionOf(req));
  const moved = setStage(ctx, name, version.version, canonical, {
    actor: ACTOR,
    archiveExisting: archive,
  });
  return { model_version: toMlflowVersion(moved) };
}

export function updateModelVersion(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const version = knownVersion(ctx, name, versionOf(req));
  const description = optionalString(req, "description");
  const updated = updateVersion(
    ctx,
    name,
    version.version,
    description === undefined ? {} : { description },
  );
  return { model_version: toMlflowVersion(updated) };
}

export function setModelVersionTag(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const version = knownVersion(ctx, name, versionOf(req));
  const key = requiredString(req, "key");
  updateVersion(ctx, name, version.version, {
    tags: { [key]: optionalString(req, "value") ?? "" },
  });
  return {};
}

export function updateRegisteredModel(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const description = optionalString(req, "description");
  updateModel(ctx, name, description === undefined ? {} : { description });
  return { registered_model: toMlflowModel(getModel(ctx, name)) };
}

export function setRegisteredModelTag(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const key = requiredString(req, "key");
  updateModel(ctx, name, { tags: { [key]: optionalString(req, "value") ?? "" } });
  return {};
}

export function deleteRegisteredModelTag(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const key = requiredString(req, "key");
  missingAs(
    () => updateModel(ctx, name, { deleteTags: [key] }),
    `No tag with name: ${key} in registered model ${name}.`,
  );
  return {};
}

export function deleteModelVersionTag(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  knownModel(ctx, name);
  const version = knownVersion(ctx, name, versionOf(req));
  const key = requiredString(req, "key");
  missingAs(
    () => updateVersion(ctx, name, version.version, { deleteTags: [key] }),
    `No tag with name: ${key} for model ${name} version ${version.version}.`,
  );
  return {};
}

/** MLflow's get-latest-versions: the newest version of each stage (of the stages asked for). */
export function getLatestVersions(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  const model = toMlflowModel(knownModel(ctx, name));
  const stages = list(req, "stages").map((s) => String(s as string).toLowerCase());
  const latest = model.latest_versions as { current_stage: string }[];
  return {
    model_versions: stages.length
      ? latest.filter((v) => stages.includes(v.current_stage.toLowerCase()))
      : latest,
  };
}

export function setModelAlias(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  const alias = requiredString(req, "alias");
  knownModel(ctx, name);
  const version = knownVersion(ctx, name, versionOf(req));
  setAlias(ctx, name, alias, version.version, { actor: ACTOR });
  return {};
}

export function getModelVersionByAlias(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  const alias = requiredString(req, "alias");
  knownModel(ctx, name);
  const version = missingAs(
    () => requireAlias(ctx, name, alias),
    `Registered model alias ${alias} not found.`,
  );
  return { model_version: toMlflowVersion(getVersion(ctx, name, version)) };
}

export function deleteModelAlias(ctx: Context, req: Request): unknown {
  const name = requiredString(req, "name");
  const alias = requiredString(req, "alias");
  knownModel(ctx, name);
  missingAs(
    () => deleteAlias(ctx, name, alias, { actor: ACTOR }),
    `Registered model alias ${alias} not found.`,
  );
  return {};
}

function knownModel(ctx: Context, name: string): RegisteredModel {
  return missingAs(() => getModel(ctx, name), `Registered Model with name=${name} not found`);
}

function knownVersion(ctx: Context, name: string, version: number): ModelVersion {
  return missingAs(
    () => getVersion(ctx, name, version),
    `Model Version (name=${name}, version=${version}) not found`,
  );
}

/** MLflow's own message for a missing resource, with RESOURCE_DOES_NOT_EXIST. */
function missingAs<T>(fn: () => T, message: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LatheError && err.code === "LATHE_NOT_FOUND") {
      throw mlflowError("RESOURCE_DOES_NOT_EXIST", message);
    }
    throw err;
  }
}

function versionOf(req: Request): number {
  const text = requiredString(req, "version");
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Parameter 'version' must be an integer, got '${text}'.`,
    );
  }
  return Number(text);
}

function parseSource(source: string, runId: string | undefined): { runId: string; path?: string } {
  const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(source);
  const artifacts = /^mlflow-artifacts:\/+[^/]+\/([^/]+)\/artifacts\/?(.*)$/.exec(source);
  const found = runs ?? artifacts;
  const fromSource = found?.[1];
  const path = found ? found[2] : source.replace(/^\.\//, "");
  const id = runId || fromSource;
  if (!id) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Cannot tell the run of source '${source}': pass run_id, or a runs:/<run_id>/<path> source.`,
    );
  }
  if (runId && fromSource && runId !== fromSource) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `run_id '${runId}' does not match the run of source '${source}'.`,
    );
  }
  return { runId: id, path: path ? path : undefined };
}

function tagMap(tags: unknown): Record<string, string> {
  if (tags === undefined || tags === null) {
    return {};
  }
  if (!Array.isArray(tags)) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      "Parameter 'tags' must be a list of {key, value}.",
    );
  }
  const out: Record<string, string> = {};
  for (const t of tags as { key?: unknown; value?: unknown }[]) {
    if (typeof t?.key !== "string" || t.key === "") {
      throw mlflowError("INVALID_PARAMETER_VALUE", `Tag ${JSON.stringify(t)} has no 'key'.`);
    }
    out[t.key] = typeof t.value === "string" ? t.value : JSON.stringify(t.value ?? "");
  }
  return out;
}
