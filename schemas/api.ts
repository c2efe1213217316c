/**
 * The daemon's HTTP contract (`/api/v1/…`), imported by the daemon, the extension and the CLI.
 * Request bodies are also JSON Schemas (bottom of this file), checked with ajv at the edge.
 * Bump API_VERSION's minor for additions and its major for changes; the extension checks it.
 */
import type {
  AliasMove,
  GateResult,
  ModelGateOutcome,
  ModelStage,
  VersionDataId,
} from "./registry";
import { versionDescriptionSchema, versionTagsSchema } from "./registry";

export const API_VERSION = "1.0";

export type RunStatus = "RUNNING" | "FINISHED" | "FAILED" | "KILLED" | "SKIPPED";

/** `.lathe/daemon.json`, written with mode 0600 when the daemon is ready. */
export interface DaemonInfo {
  pid: number;
  port: number;
  token: string;
  version: string;
  apiVersion: string;
  root: string;
  startedAt: string;
}

export interface Health {
  ok: true;
  version: string;
  apiVersion: string;
  pid: number;
  root: string;
}

export interface Experiment {
  id: string;
  name: string;
  createdAt: number;
  runCount: number;
}

export interface MetricValue {
  key: string;
  value: number | null; // null for NaN in JSON; `text` keeps "NaN", "Infinity", "-Infinity"
  text?: string;
  step: number;
  timestamp: number;
}

export interface RunSummary {
  id: string;
  experimentId: string;
  experimentName: string;
  name: string;
  parentId: string | null;
  stage: string | null;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  exitCode: number | null;
  command: string | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  params: Record<string, string>;
  /** The latest value of each metric. */
  metrics: Record<string, MetricValue>;
  tags: Record<string, string>;
  /** MLflow's lifecycle: a deleted run is hidden from lists unless they are asked for it. */
  lifecycleStage: "active" | "deleted";
}

export interface RunDetail extends RunSummary {
  /** The stage's deps with their data ids (git object ids) when it ran. */
  inputs: { path: string; oid: string }[];
  outputs: { path: string; oid: string }[];
  /** Files the run logged as artifacts, by path. */
  artifacts: RunArtifact[];
  log: string;
  error: string | null;
}

export interface StageResult {
  stage: string;
  /** `restored`: outputs came back from the run cache (an earlier run with the same inputs). */
  status: "ran" | "restored" | "skipped" | "failed" | "not-run";
  /** The stage's run; for a skipped stage the run that produced its outputs, when known. */
  runId: string | null;
  reason: string;
  /** What did not fail the stage but needs a look (a metrics file that does not parse). */
  warnings?: string[];
}

/** Why a stage is stale (or notes on an up-to-date one: frozen). */
export interface StageReason {
  kind:
    | "never-ran"
    | "cmd"
    | "dep"
    | "param"
    | "out-missing"
    | "out-changed"
    | "always-changed"
    | "upstream"
    | "frozen";
  /** The dep or out path, the `file:key` of a param, or the upstream stage. */
  subject?: string;
  message: string;
}

/** `GET /api/v1/pipeline/status` and `lathe status --pipeline --json`. */
export interface PipelineStatus {
  file: string;
  /** True when any stage is stale (frozen stages never are). */
  stale: boolean;
  stages: {
    stage: string;
    state: "up-to-date" | "stale" | "frozen";
    reasons: StageReason[];
  }[];
  /** Parts of the pipeline file Lathe reads but ignores, with file:line:col. */
  warnings: string[];
}

/** One pointer file (`<path>.lathe`) compared with its data and the content store. */
export interface DataStatusEntry {
  /** The data's workspace-relative path. */
  path: string;
  /** The pointer file's workspace-relative path. */
  pointer: string;
  state: "up-to-date" | "modified" | "missing" | "not-in-cache" | "invalid";
  /** The id the pointer records; null for an invalid pointer. */
  oid: string | null;
  /** What is wrong and what to do, or "up to date". */
  message: string;
}

/** `lathe status --data --json`: every pointer file in the workspace. */
export interface DataStatus {
  /** True when any entry is not up to date. */
  changed: boolean;
  entries: DataStatusEntry[];
}

/** What `lathe checkout` did with one pointer file. */
export interface DataCheckoutEntry {
  /** The data's workspace-relative path (the pointer's path less `.lathe` when it is invalid). */
  path: string;
  /** The pointer file's workspace-relative path. */
  pointer: string;
  /** The id the pointer records; null for an invalid pointer. */
  oid: string | null;
  /**
   * `restored`: written from .lathe/cache; `up-to-date`: already those bytes, left untouched;
   * `refused`: holds changes no pointer records (use --force or `lathe add`); `missing-object`:
   * the object is not in .lathe/cache; `error`: the pointer is invalid or the restore failed.
   */
  action: "restored" | "up-to-date" | "refused" | "missing-object" | "error";
  message: string;
}

/** `lathe checkout --json`: one entry per pointer file checked out, sorted by pointer path. */
export type DataCheckout = DataCheckoutEntry[];

/** `GET /api/v1/pipeline/dag` and `lathe dag --json`. */
export interface PipelineDag {
  file: string;
  /** Upstream before downstream. */
  stages: {
    name: string;
    cmd: string;
    desc: string | null;
    frozen: boolean;
    /** The stage's working directory, workspace-relative ("" for the root). */
    wdir: string;
    /** Names of the stages this one depends on. */
    upstream: string[];
    deps: string[];
    /**
     * The params lathe.yaml declares for the stage, keyed as its runs record them: `a.b` for its
     * own params file (`<wdir>/params.yaml`), `file.yaml:a.b` for another (workspace-relative).
     */
    params: string[];
    outs: string[];
    /** Where the stage is written (its key, or its foreach/matrix group's key). */
    line: number;
    col: number;
  }[];
  /** Top-level `metrics:` files (dvc.yaml's form), workspace-relative. */
  metrics: string[];
  /** Top-level `plots:`: each plot's id and the files it reads. */
  plots: { id: string; files: string[] }[];
}

export interface ReproResult {
  parentRunId: string;
  ok: boolean;
  stages: StageResult[];
  /**
   * Parts of the pipeline file Lathe ignores, with file:line:col (see PipelineStatus), then each
   * stage's warnings (metrics files that do not parse).
   */
  warnings: string[];
  /** The `models:` section (#5): each entry's registration and gate; `ok` is false if one failed. */
  models?: ModelGateOutcome[];
}

export interface ModelSignatureTensor {
  name: string;
  /** Open Inference Protocol datatype: FP32, INT64, BYTES, … */
  datatype: string;
  /** -1 for a dynamic dimension. */
  shape: number[];
}

export interface ModelSignature {
  inputs: ModelSignatureTensor[];
  outputs: ModelSignatureTensor[];
  /** Column names of a 2-D float input, in order, from the model's metadata (`lathe.features`). */
  features?: string[];
  /** Class names for a class-index output, from the model's metadata (`lathe.labels`). */
  labels?: string[];
}

export interface ModelVersion {
  model: string;
  version: number;
  runId: string;
  oid: string;
  path: string;
  signature: ModelSignature;
  metrics: Record<string, number | null>;
  /**
   * The pipeline stage each metric came from (the run's stage, or the evaluating stage a gate
   * read); null for a run outside a pipeline. Versions registered before it was kept have none.
   */
  metricStages: Record<string, string | null>;
  params: Record<string, string>;
  createdAt: number;
  /** Registry (#5): lineage, notes, stage, aliases and gate; see schemas/registry.ts. */
  gitCommit: string | null;
  /** The source run's inputs (training deps) with their data ids. */
  dataIds: VersionDataId[];
  description: string;
  /** MLflow-style stage: None, Staging, Production or Archived. */
  stage: ModelStage;
  tags: Record<string, string>;
  /** Aliases that point at this version, by name. */
  aliases: string[];
  /** The lathe.yaml gate evaluated when this version was registered by `lathe repro`. */
  gate: GateResult | null;
  updatedAt: number;
}

export interface RegisteredModel {
  name: string;
  createdAt: number;
  versions: ModelVersion[];
  description: string;
  tags: Record<string, string>;
  /** Alias name → version. */
  aliases: Record<string, number>;
}

/** `restarting`: the worker crashed and the daemon is starting it again after a backoff (#5). */
export type DeploymentState = "starting" | "ready" | "failed" | "restarting" | "stopped";

/** How a deployment batches and queues requests (#5); every field has a default. */
export interface ServingOptions {
  /** Most rows merged into one session.run (default 64; 1 turns batching off). */
  maxBatchRows: number;
  /** Longest a request waits for others to join its batch, in ms (default 2). */
  maxDelayMs: number;
  /** Requests waiting per version before new ones get 503 (default 256). */
  maxQueue: number;
}

/** A version served by a deployment and its share of the traffic, in percent (#5). */
export interface TrafficShare {
  version: number;
  percent: number;
}

/** The last few seconds of a deployment's traffic, from its worker (#5). */
export interface VersionStats {
  version: number;
  percent: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p95Ms: number | null;
  queueDepth: number;
}

export interface DeploymentStats {
  name: string;
  /** The window the rates and percentiles cover, in seconds. */
  windowSeconds: number;
  /** Totals since the worker started. */
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p95Ms: number | null;
  versions: VersionStats[];
}

export interface Deployment {
  name: string;
  model: string;
  version: number;
  state: DeploymentState;
  url: string | null;
  port: number | null;
  pid: number | null;
  startedAt: number;
  error: string | null;
  /** What was deployed: `name`, `name@3` or `name@alias` (#5). */
  target: string;
  /** The versions served and their shares; one entry at 100 without a split (#5). */
  traffic: TrafficShare[];
  options: ServingOptions;
  /** Restarts after a crash since the last deploy (#5). */
  restarts: number;
}

/** What the event stream (`GET /api/v1/events`, server-sent events) carries, one JSON per event. */
export type DaemonEvent =
  | { type: "runs/changed"; runId: string }
  | { type: "models/changed"; model: string; alias?: AliasMove }
  | { type: "deployments/changed"; name: string }
  | { type: "repro/progress"; stage: string; status: StageResult["status"] | "running" }
  /** lathe.yaml, lathe.lock, a params file, a dep or an out changed on disk: states may differ. */
  | { type: "pipeline/changed"; path: string };

// ----- request bodies -----

/**
 * The events a CLI process may report to the workspace's daemon (`POST /api/v1/events`): a
 * `lathe repro` run in a terminal writes its runs to the same database, and the daemon re-emits
 * these on its stream so the editor updates live. Nothing else may be reported.
 */
export type ReportedEvent = Extract<DaemonEvent, { type: "runs/changed" | "repro/progress" }>;

export interface ReportEventsRequest {
  events: ReportedEvent[];
}

export const reportEventsRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["events"],
  properties: {
    events: {
      type: "array",
      minItems: 1,
      maxItems: 1000,
      items: {
        type: "object",
        required: ["type"],
        properties: { type: { enum: ["runs/changed", "repro/progress"] } },
        // By `type`, each event's own fields: an error then names the field that is wrong,
        // where `oneOf` would report every branch's complaints.
        allOf: [
          {
            if: { properties: { type: { const: "runs/changed" } } },
            then: {
              type: "object",
              additionalProperties: false,
              required: ["runId"],
              properties: {
                type: { const: "runs/changed" },
                runId: { type: "string", pattern: "^[0-9a-f]{32}$" },
              },
            },
          },
          {
            if: { properties: { type: { const: "repro/progress" } } },
            then: {
              type: "object",
              additionalProperties: false,
              required: ["stage", "status"],
              properties: {
                type: { const: "repro/progress" },
                stage: { type: "string", minLength: 1, maxLength: 200 },
                status: { enum: ["running", "ran", "restored", "skipped", "failed", "not-run"] },
              },
            },
          },
        ],
      },
    },
  },
} as const;

export interface ReproRequest {
  stages?: string[];
  force?: boolean;
  /** With `stages`: those stages and everything downstream of them, instead of upstream. */
  downstream?: boolean;
  /** Stages run at once when independent (default 1). */
  jobs?: number;
}

export interface RegisterRequest {
  runId: string;
  /** The run output to register; defaults to its only .onnx output. */
  path?: string;
  /** The version's description (`lathe models register --description`). */
  description?: string;
  /** The version's tags (`lathe models register --tag key=value`). */
  tags?: Record<string, string>;
}

export interface DeployRequest {
  /** `name`, `name@3` or `name@alias`; the deployment is named after the model. */
  model: string;
  /** Defaults to the latest version (or the one `model` names). */
  version?: number;
  /** Send `percent` of the traffic to another version of the same model (#5). */
  split?: { target: string; percent: number };
  maxBatchRows?: number;
  maxDelayMs?: number;
  maxQueue?: number;
}

export const reproRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    stages: { type: "array", items: { type: "string", minLength: 1 } },
    force: { type: "boolean" },
    downstream: { type: "boolean" },
    jobs: { type: "integer", minimum: 1, maximum: 64 },
  },
} as const;

export const registerRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["runId"],
  properties: {
    runId: { type: "string", minLength: 1 },
    path: { type: "string", minLength: 1 },
    description: versionDescriptionSchema,
    tags: versionTagsSchema,
  },
} as const;

export const deployRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["model"],
  properties: {
    model: {
      type: "string",
      minLength: 1,
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._-]+)?$",
    },
    version: { type: "integer", minimum: 1 },
    split: {
      type: "object",
      additionalProperties: false,
      required: ["target", "percent"],
      properties: {
        target: { type: "string", minLength: 1 },
        percent: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 100 },
      },
    },
    maxBatchRows: { type: "integer", minimum: 1, maximum: 4096 },
    maxDelayMs: { type: "number", minimum: 0, maximum: 1000 },
    maxQueue: { type: "integer", minimum: 1, maximum: 100000 },
  },
} as const;

// ----- tracking (#3): the native batch API -----

/** A metric point; NaN and ±Infinity are the strings "NaN", "Infinity", "-Infinity" (or null for NaN). */
export interface MetricPoint {
  key: string;
  value: number | "NaN" | "Infinity" | "-Infinity" | null;
  /** Defaults to 0; may be negative and arrive in any order. */
  step?: number;
  /** Unix milliseconds; defaults to the time the daemon receives the batch. */
  timestamp?: number;
}

/** `POST /api/v1/runs/:id/batch`: at most 1000 metrics, 100 params, 100 tags, 1000 in all. */
export interface BatchRequest {
  metrics?: MetricPoint[];
  /** Write-once: the same value again is fine, a new value is 409 LATHE_CONFLICT. */
  params?: Record<string, string>;
  /** Overwritten by a later value. */
  tags?: Record<string, string>;
}

export interface BatchResult {
  runId: string;
  metrics: number;
  params: number;
  tags: number;
}

export const batchRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    metrics: {
      type: "array",
      maxItems: 1000,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["key", "value"],
        properties: {
          key: { type: "string" },
          value: {
            anyOf: [
              { type: "number" },
              { type: "null" },
              { enum: ["NaN", "Infinity", "-Infinity"] },
            ],
          },
          step: { type: "integer" },
          timestamp: { type: "integer", minimum: 0 },
        },
      },
    },
    params: { type: "object", maxProperties: 100, additionalProperties: { type: "string" } },
    tags: { type: "object", maxProperties: 100, additionalProperties: { type: "string" } },
  },
} as const;

/**
 * A file a run logged: `PUT /api/v1/runs/:id/artifacts/<path>` (the clients' log_artifact) or
 * MLflow's artifact upload. The bytes are an object in the content store, named by `oid`.
 */
export interface RunArtifact {
  path: string;
  oid: string;
  size: number;
}

// ----- tracking (#3): the native query routes -----

/** One point of a metric history; NaN and ±Infinity have `value` null and `text` set. */
export interface MetricHistoryPoint {
  step: number;
  /** Unix milliseconds. */
  timestamp: number;
  value: number | null;
  text?: "NaN" | "Infinity" | "-Infinity";
}

/**
 * `GET /api/v1/runs/:id/metrics/history?key=&points=&minStep=&maxStep=&minTime=&maxTime=&x=step|time`
 * (steps and Unix milliseconds, inclusive).
 * When the ranges hold more than `points` points, the server cuts the x range into equal buckets
 * and keeps per bucket its first, lowest, highest and last point, and its first NaN (a spike or a
 * divergence survives any zoom); `points` sorted by x, at most the `points` asked for.
 */
export interface MetricHistory {
  runId: string;
  key: string;
  /** Points in the step and time ranges, before downsampling. */
  total: number;
  downsampled: boolean;
  points: MetricHistoryPoint[];
}

/** `POST /api/v1/runs/compare`. */
export interface CompareRequest {
  /** 1 to 50 run ids; the answer's values follow this order. */
  runIds: string[];
}

/**
 * A metric of one run: its latest point, min/max over its values with ±Infinity included and
 * NaN left out (an infinite min or max is null with `minText`/`maxText` spelling it, as `last`
 * and `text` do; both are null when every point is NaN), and how many of its points are NaN,
 * +Infinity and -Infinity.
 */
export interface MetricSummary {
  last: number | null;
  text?: "NaN" | "Infinity" | "-Infinity";
  min: number | null;
  minText?: "Infinity" | "-Infinity";
  max: number | null;
  maxText?: "Infinity" | "-Infinity";
  /** The step of the latest point. */
  step: number;
  /** Points logged, NaN and ±Infinity included. */
  count: number;
  /** Points that are NaN. */
  nan: number;
  /** Points that are +Infinity. */
  posInf: number;
  /** Points that are -Infinity. */
  negInf: number;
}

export interface RunComparison {
  runs: RunSummary[];
  /** Every param key of any of the runs, by key; `values[i]` belongs to `runs[i]`. */
  params: { key: string; values: (string | null)[]; differs: boolean }[];
  /** Every metric key of any of the runs, by key; `differs` compares the latest values. */
  metrics: { key: string; values: (MetricSummary | null)[]; differs: boolean }[];
}

/** `POST /api/v1/runs/search`. */
export interface SearchRunsRequest {
  experimentIds?: string[];
  /** MLflow's filter syntax: `metrics.acc > 0.8 and params.lr = '0.01'`. */
  filter?: string;
  /** `metrics.acc DESC`, `params.lr`, `start_time ASC`, …; newest first after these. */
  orderBy?: string[];
  /** 1 to 50000; default 1000. */
  maxResults?: number;
  pageToken?: string;
  /** Deleted runs too (default false). */
  includeDeleted?: boolean;
}

export interface SearchRunsResult {
  runs: RunSummary[];
  nextPageToken: string | null;
}

/** `PUT /api/v1/runs/:id/tags/:key`. */
export interface SetTagRequest {
  value: string;
}

export const compareRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["runIds"],
  properties: {
    runIds: {
      type: "array",
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      items: { type: "string", minLength: 1 },
    },
  },
} as const;

export const searchRunsRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    experimentIds: { type: "array", items: { type: "string", minLength: 1 } },
    filter: { type: "string" },
    orderBy: { type: "array", items: { type: "string", minLength: 1 } },
    maxResults: { type: "integer", minimum: 1, maximum: 50000 },
    pageToken: { type: "string" },
    includeDeleted: { type: "boolean" },
  },
} as const;

export const setTagRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["value"],
  properties: { value: { type: "string", maxLength: 5000 } },
} as const;
