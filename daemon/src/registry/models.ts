/**
 * Registered models and their versions, read from the `models` and `model_versions` tables.
 * Versions are immutable once written; `register.ts` is the only writer.
 */
import type { ModelVersion, RegisteredModel } from "../../../schemas/api";
import type { Context } from "../context";
import { LatheError } from "../errors";

/** What a model name may look like: it becomes a URL segment and a CLI argument. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface VersionRow {
  model: string;
  version: number;
  run_id: string;
  oid: string;
  path: string;
  signature: string;
  metrics: string;
  metric_stages: string;
  params: string;
  created_at: number;
  git_commit: string | null;
  data_ids: string;
  description: string;
  stage: string;
  gate: string | null;
  updated_at: number | null;
}

interface ModelRow {
  name: string;
  created_at: number;
  description: string;
}

/** Tags and aliases of one model, read once for all its versions. */
interface Notes {
  tags: Map<number, Record<string, string>>;
  aliases: Record<string, number>;
}

/** Every registered model with its versions, oldest version first, models by name. */
export function listModels(ctx: Context): RegisteredModel[] {
  const models = ctx.db
    .prepare("SELECT name, created_at, description FROM models ORDER BY name")
    .all() as ModelRow[];
  const versions = ctx.db
    .prepare("SELECT * FROM model_versions ORDER BY model, version")
    .all() as VersionRow[];
  return models.map((m) =>
    toModel(
      ctx,
      m,
      versions.filter((v) => v.model === m.name),
    ),
  );
}

/** One model with its versions; LATHE_NOT_FOUND when no model has that name. */
export function getModel(ctx: Context, name: string): RegisteredModel {
  const row = ctx.db
    .prepare("SELECT name, created_at, description FROM models WHERE name = ?")
    .get(name) as ModelRow | undefined;
  if (!row) {
    throw modelNotFound(ctx, name);
  }
  const versions = ctx.db
    .prepare("SELECT * FROM model_versions WHERE model = ? ORDER BY version")
    .all(name) as VersionRow[];
  return toModel(ctx, row, versions);
}

/** A model's version, or its latest when `version` is undefined. */
export function getVersion(ctx: Context, name: string, version?: number): ModelVersion {
  const row = (
    version === undefined
      ? ctx.db
          .prepare("SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC LIMIT 1")
          .get(name)
      : ctx.db
          .prepare("SELECT * FROM model_versions WHERE model = ? AND version = ?")
          .get(name, version)
  ) as VersionRow | undefined;
  if (row) {
    return toVersion(row, readNotes(ctx, name));
  }
  const model = getModel(ctx, name); // Throws when the model itself is unknown.
  const known = model.versions.map((v) => v.version).join(", ");
  throw new LatheError(
    "LATHE_NOT_FOUND",
    version === undefined || !known
      ? `Model '${name}' has no versions yet; register one with 'lathe models register ${name} --from <run>'.`
      : `Model '${name}' has no version ${version}; its versions are ${known}.`,
    { model: name, version },
  );
}

export function checkModelName(name: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${name}' is not a valid model name: use letters, digits, '.', '_' and '-', starting with a letter or digit.`,
      { model: name },
    );
  }
}

function modelNotFound(ctx: Context, name: string): LatheError {
  const names = (ctx.db.prepare("SELECT name FROM models ORDER BY name").all() as ModelRow[]).map(
    (m) => m.name,
  );
  const hint = names.length
    ? `registered models: ${names.join(", ")}`
    : "no model is registered yet";
  return new LatheError("LATHE_NOT_FOUND", `No model named '${name}' (${hint}).`, { model: name });
}

function toModel(ctx: Context, row: ModelRow, versions: VersionRow[]): RegisteredModel {
  const notes = readNotes(ctx, row.name);
  const tags = ctx.db
    .prepare("SELECT key, value FROM model_tags WHERE model = ? ORDER BY key")
    .all(row.name) as {
    key: string;
    value: string;
  }[];
  return {
    name: row.name,
    createdAt: row.created_at,
    versions: versions.map((v) => toVersion(v, notes)),
    description: row.description,
    tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
    aliases: notes.aliases,
  };
}

function readNotes(ctx: Context, model: string): Notes {
  const tagRows = ctx.db
    .prepare("SELECT version, key, value FROM model_version_tags WHERE model = ? ORDER BY key")
    .all(model) as { version: number; key: string; value: string }[];
  const tags = new Map<number, Record<string, string>>();
  for (const t of tagRows) {
    tags.set(t.version, { ...tags.get(t.version), [t.key]: t.value });
  }
  const aliasRows = ctx.db
    .prepare("SELECT alias, version FROM model_aliases WHERE model = ? ORDER BY alias")
    .all(model) as { alias: string; version: number }[];
  return { tags, aliases: Object.fromEntries(aliasRows.map((a) => [a.alias, a.version])) };
}

function toVersion(row: VersionRow, notes: Notes): ModelVersion {
  return {
    model: row.model,
    version: row.version,
    runId: row.run_id,
    oid: row.oid,
    path: row.path,
    signature: JSON.parse(row.signature) as ModelVersion["signature"],
    metrics: JSON.parse(row.metrics) as ModelVersion["metrics"],
    metricStages: JSON.parse(row.metric_stages) as ModelVersion["metricStages"],
    params: JSON.parse(row.params) as ModelVersion["params"],
    createdAt: row.created_at,
    gitCommit: row.git_commit,
    dataIds: JSON.parse(row.data_ids) as ModelVersion["dataIds"],
    description: row.description,
    stage: row.stage as ModelVersion["stage"],
    tags: notes.tags.get(row.version) ?? {},
    aliases: Object.keys(notes.aliases).filter((a) => notes.aliases[a] === row.version),
    gate: row.gate === null ? null : (JSON.parse(row.gate) as ModelVersion["gate"]),
    updatedAt: row.updated_at ?? row.created_at,
  };
}
