/**
 * The registry's part of the daemon's HTTP contract (#5): aliases, stages, the audit log, tags,
 * descriptions, model cards and lathe.yaml gates. schemas/api.ts holds ModelVersion itself.
 */

export type ModelStage = "None" | "Staging" | "Production" | "Archived";
export const MODEL_STAGES: readonly ModelStage[] = ["None", "Staging", "Production", "Archived"];

/** An alias: a letter first, then letters, digits, '_' or '-'; 'latest' and `v<digits>` are taken. */
export const ALIAS_PATTERN = "^[A-Za-z][A-Za-z0-9_-]{0,63}$";

/** One input of the run a version came from: a training dep and its data id. */
export interface VersionDataId {
  path: string;
  oid: string;
}

/** An alias moved (or was set or deleted): what `models/changed` carries. */
export interface AliasMove {
  name: string;
  from: number | null;
  to: number | null;
}

/** One audit log entry: an alias or stage move, when, from, to, why and who. */
export interface RegistryAuditEntry {
  id: number;
  model: string;
  kind: "alias" | "stage" | "version" | "rename";
  /**
   * The alias moved; for a stage move or a version deletion the version's number, as text; for
   * a rename, "name".
   */
  name: string;
  /**
   * Versions (as text) for an alias move, stage names for a stage move, the deleted version's
   * stage (to null) for a deletion, the old and new model names for a rename; null for none.
   */
  from: string | null;
  to: string | null;
  reason: string;
  actor: string;
  at: number;
}

/** One gate condition as evaluated: both values and whether it held. */
export interface GateConditionResult {
  /** As written in lathe.yaml, e.g. `accuracy >= @champion - 0.01`. */
  text: string;
  metric: string;
  op: string;
  /** The candidate's value; null when the version has no such metric (or it is NaN). */
  actual: number | null;
  /** What it was compared with (the threshold, or the alias's value plus the offset). */
  expected: number | null;
  /** For `@alias` conditions: the version the alias pointed at, or null when it was unset. */
  against: { alias: string; version: number | null } | null;
  status: "passed" | "failed" | "skipped";
  /** A sentence with both values, e.g. `accuracy 0.612 < 0.99`. */
  detail: string;
}

export interface GateResult {
  passed: boolean;
  /** The alias the gate moves when it passes, if any. */
  alias: string | null;
  /** Whether the alias now points at this version because of this gate. */
  moved: boolean;
  conditions: GateConditionResult[];
  /** Where the gate is written: `lathe.yaml:31:5`. */
  source: string;
  at: number;
}

/** What `lathe repro` did with one entry of the `models:` section. */
export interface ModelGateOutcome {
  model: string;
  status: "registered" | "unchanged" | "not-run";
  version: number | null;
  gate: GateResult | null;
  reason: string;
}

/** A version addressed by alias, number, or the latest: what serving deploys. */
export interface ResolvedTarget {
  model: string;
  version: number;
  /** The alias the target named, or null for `name` and `name@3`. */
  alias: string | null;
}

// ----- request bodies -----

export interface SetAliasRequest {
  version: number;
  reason?: string;
  /** Who moves it, for the audit log (default: the caller's surface, e.g. "api"). */
  actor?: string;
}

export interface RollbackRequest {
  reason?: string;
  actor?: string;
}

export interface SetStageRequest {
  stage: ModelStage;
  reason?: string;
  actor?: string;
  /** MLflow's archive_existing_versions: other versions in this stage move to Archived. */
  archiveExisting?: boolean;
}

export interface UpdateVersionRequest {
  description?: string;
  /** Tags to set. */
  tags?: Record<string, string>;
  /** Tag keys to delete. */
  deleteTags?: string[];
}

const reason = { type: "string", maxLength: 1000 } as const;
const actor = { type: "string", maxLength: 200 } as const;

export const setAliasRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["version"],
  properties: { version: { type: "integer", minimum: 1 }, reason, actor },
} as const;

export const rollbackRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: { reason, actor },
} as const;

export const setStageRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["stage"],
  properties: {
    stage: { type: "string", enum: [...MODEL_STAGES] },
    reason,
    actor,
    archiveExisting: { type: "boolean" },
  },
} as const;

/** The longest tag key of a version, and the longest description or tag value. */
export const TAG_KEY_MAX = 250;
export const VERSION_TEXT_MAX = 5000;

/** A version's description, at registration or later. */
export const versionDescriptionSchema = { type: "string", maxLength: VERSION_TEXT_MAX } as const;

/** A version's tags to set: a non-empty key, a string value. */
export const versionTagsSchema = {
  type: "object",
  propertyNames: { minLength: 1, maxLength: TAG_KEY_MAX },
  additionalProperties: { type: "string", maxLength: VERSION_TEXT_MAX },
} as const;

export const updateVersionRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    description: versionDescriptionSchema,
    tags: versionTagsSchema,
    deleteTags: { type: "array", items: { type: "string", minLength: 1 } },
  },
} as const;

/** GET /api/v1/models/:name/card */
export interface ModelCardResponse {
  model: string;
  version: number;
  markdown: string;
}
