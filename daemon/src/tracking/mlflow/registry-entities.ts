/**
 * Lathe's registered models and versions in MLflow's JSON (model_registry.proto as MLflow's
 * server writes it): version numbers as strings, tags as key/value lists, `status: READY`.
 */
import type { ModelVersion, RegisteredModel } from "../../../../schemas/api";
import { MODEL_STAGES } from "../../../../schemas/registry";

export function toMlflowVersion(v: ModelVersion): Record<string, unknown> {
  return {
    name: v.model,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    user_id: "",
    current_stage: v.stage,
    description: v.description,
    source: `runs:/${v.runId}/${v.path}`,
    run_id: v.runId,
    status: "READY",
    tags: keyValues(v.tags),
    run_link: "",
    aliases: v.aliases,
  };
}

export function toMlflowModel(m: RegisteredModel): Record<string, unknown> {
  const updated = Math.max(m.createdAt, ...m.versions.map((v) => v.updatedAt));
  // MLflow's latest_versions: the newest version in each stage.
  const latest = MODEL_STAGES.flatMap((stage) => {
    const inStage = m.versions.filter((v) => v.stage === stage);
    return inStage.length ? [inStage[inStage.length - 1]!] : [];
  });
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: updated,
    user_id: "",
    description: m.description,
    latest_versions: latest.map(toMlflowVersion),
    tags: keyValues(m.tags),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({
      alias,
      version: String(version),
    })),
  };
}

function keyValues(map: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}
