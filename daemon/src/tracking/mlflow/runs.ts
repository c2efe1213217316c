/**
 * MLflow's run endpoints (`/api/2.0/mlflow/runs/…`, `metrics/get-history`): each takes the
 * request as MLflow sends it (JSON body, or query parameters for GETs) and returns MLflow's
 * response body. Field names and messages follow MLflow's server.
 */
import type { RunStatus } from "../../../../schemas/api";
import type { Context } from "../../context";
import { createRun, metricHistory } from "../../store/runs";
import {
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  parseBatch,
  parseKeyValue,
  parseMetric,
  requireActiveRun,
  writeBatch,
} from "../ingest";
import {
  DEFAULT_EXPERIMENT_ID,
  deleteTag,
  experimentRecord,
  requireRun,
  runRecord,
  setRunLifecycle,
  setRunUser,
  updateRunInfo,
  upsertTags,
  type KeyValue,
} from "../records";
import { searchRunIds, type ViewType } from "../search";
import { checkKey } from "../validate";
import { toMlflowMetric, toMlflowRuns, toRunInfo, type MlflowRun } from "./entities";
import { mlflowError } from "./errors";
import {
  list,
  maxResults,
  optionalInt64,
  optionalString,
  requiredString,
  runIdOf,
  type Request,
} from "./request";

const STATUSES: RunStatus[] = ["RUNNING", "FINISHED", "FAILED", "KILLED"];
const VIEW_TYPES: ViewType[] = ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"];

function oneRun(ctx: Context, id: string): MlflowRun {
  requireRun(ctx.db, id);
  return toMlflowRuns(ctx.db, [id])[0]!;
}

export function createMlflowRun(ctx: Context, req: Request): { run: MlflowRun } {
  const experimentId = optionalString(req, "experiment_id") ?? DEFAULT_EXPERIMENT_ID;
  const experiment = experimentRecord(ctx.db, experimentId);
  if (!experiment) {
    throw mlflowError("RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${experimentId} exists`);
  }
  if (experiment.lifecycleStage !== "active") {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
    );
  }
  const tags = list(req, "tags").map((t) => parseKeyValue("tag", t));
  const name =
    optionalString(req, "run_name") ?? tagValue(tags, RUN_NAME_TAG) ?? generatedRunName();
  const parent = tagValue(tags, PARENT_RUN_TAG);
  const startTime = optionalInt64(req, "start_time") ?? Date.now();
  const userId = optionalString(req, "user_id");

  const id = ctx.db.transaction(() => {
    const parentId = parent !== undefined && runRecord(ctx.db, parent) ? parent : null;
    const runId = createRun(ctx.db, { experimentId, name, parentId, startTime });
    if (userId !== undefined) {
      setRunUser(ctx.db, runId, userId);
    }
    const named = tags.some((t) => t.key === RUN_NAME_TAG);
    upsertTags(ctx.db, runId, named ? tags : [...tags, { key: RUN_NAME_TAG, value: name }]);
    return runId;
  })();
  ctx.events.emit({ type: "runs/changed", runId: id });
  return { run: oneRun(ctx, id) };
}

export function getMlflowRun(ctx: Context, req: Request): { run: MlflowRun } {
  return { run: oneRun(ctx, runIdOf(req)) };
}

export function updateMlflowRun(ctx: Context, req: Request): { run_info: unknown } {
  const runId = runIdOf(req);
  requireActiveRun(ctx, runId);
  const status = optionalString(req, "status");
  if (status !== undefined && !STATUSES.includes(status as RunStatus)) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid run status '${status}'; one of ${STATUSES.join(", ")}.`,
    );
  }
  const endTime = optionalInt64(req, "end_time");
  const name = optionalString(req, "run_name");
  ctx.db.transaction(() => {
    updateRunInfo(ctx.db, runId, { status: status as RunStatus | undefined, endTime, name });
    if (name !== undefined) {
      upsertTags(ctx.db, runId, [{ key: RUN_NAME_TAG, value: name }]);
    }
  })();
  ctx.events.emit({ type: "runs/changed", runId });
  return { run_info: toRunInfo(requireRun(ctx.db, runId)) };
}

export function setMlflowRunLifecycle(ctx: Context, req: Request, deleted: boolean): object {
  const runId = runIdOf(req);
  requireRun(ctx.db, runId);
  setRunLifecycle(ctx.db, runId, deleted ? "deleted" : "active");
  ctx.events.emit({ type: "runs/changed", runId });
  return {};
}

export function searchMlflowRuns(
  ctx: Context,
  req: Request,
): { runs: MlflowRun[]; next_page_token?: string } {
  const experimentIds = list(req, "experiment_ids").map(String);
  const viewType = (optionalString(req, "run_view_type") ?? "ACTIVE_ONLY") as ViewType;
  if (!VIEW_TYPES.includes(viewType)) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid run_view_type '${viewType}'; one of ${VIEW_TYPES.join(", ")}.`,
    );
  }
  const page = searchRunIds(ctx.db, {
    experimentIds,
    filter: optionalString(req, "filter"),
    viewType,
    maxResults: optionalInt64(req, "max_results"),
    orderBy: list(req, "order_by").map(String),
    pageToken: optionalString(req, "page_token"),
  });
  const body: { runs: MlflowRun[]; next_page_token?: string } = {
    runs: toMlflowRuns(ctx.db, page.ids),
  };
  if (page.nextPageToken) {
    body.next_page_token = page.nextPageToken;
  }
  return body;
}

export function logMlflowBatch(ctx: Context, req: Request): object {
  const runId = runIdOf(req);
  const batch = parseBatch({
    metrics: list(req, "metrics"),
    params: list(req, "params"),
    tags: list(req, "tags"),
  });
  writeBatch(ctx, runId, batch);
  return {};
}

export function logMlflowMetric(ctx: Context, req: Request): object {
  const runId = runIdOf(req);
  requiredString(req, "key");
  for (const field of ["value", "timestamp"]) {
    if (req[field] === undefined || req[field] === null) {
      throw missing(field);
    }
  }
  const metric = parseMetric(
    { key: req.key, value: req.value, timestamp: req.timestamp, step: req.step },
    Date.now(),
  );
  writeBatch(ctx, runId, { metrics: [metric], params: [], tags: [] });
  return {};
}

export function logMlflowParam(ctx: Context, req: Request): object {
  const runId = runIdOf(req);
  requiredString(req, "key");
  const param = parseKeyValue("param", { key: req.key, value: req.value ?? "" });
  writeBatch(ctx, runId, { metrics: [], params: [param], tags: [] });
  return {};
}

export function setMlflowTag(ctx: Context, req: Request): object {
  const runId = runIdOf(req);
  requiredString(req, "key");
  const tag = parseKeyValue("tag", { key: req.key, value: req.value ?? "" });
  writeBatch(ctx, runId, { metrics: [], params: [], tags: [tag] });
  return {};
}

export function deleteMlflowTag(ctx: Context, req: Request): object {
  const runId = runIdOf(req);
  const key = requiredString(req, "key");
  requireActiveRun(ctx, runId);
  if (!deleteTag(ctx.db, runId, key)) {
    throw mlflowError(
      "RESOURCE_DOES_NOT_EXIST",
      `No tag with name: ${key} in run with id ${runId}`,
    );
  }
  ctx.events.emit({ type: "runs/changed", runId });
  return {};
}

/** Every point of one metric, by step then time; `max_results` pages through it. */
export function mlflowMetricHistory(
  ctx: Context,
  req: Request,
): { metrics: unknown[]; next_page_token?: string } {
  const runId = runIdOf(req);
  const key = checkKey("metric", requiredString(req, "metric_key"));
  requireRun(ctx.db, runId);
  const all = metricHistory(ctx.db, runId, key).map(toMlflowMetric);
  if (req.max_results === undefined || req.max_results === null) {
    return { metrics: all };
  }
  const max = maxResults(req, all.length);
  const token = optionalString(req, "page_token");
  const offset = token ? Number(Buffer.from(token, "base64").toString("utf8")) || 0 : 0;
  const body: { metrics: unknown[]; next_page_token?: string } = {
    metrics: all.slice(offset, offset + max),
  };
  if (offset + max < all.length) {
    body.next_page_token = Buffer.from(String(offset + max)).toString("base64");
  }
  return body;
}

function missing(field: string) {
  return mlflowError(
    "INVALID_PARAMETER_VALUE",
    `Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`,
  );
}

function tagValue(tags: KeyValue[], key: string): string | undefined {
  return tags.findLast((t) => t.key === key)?.value;
}

const ADJECTIVES = [
  "amber",
  "brisk",
  "calm",
  "deft",
  "eager",
  "fleet",
  "grand",
  "keen",
  "lucid",
  "merry",
  "noble",
  "quiet",
  "rapid",
  "sunny",
  "tidy",
  "vivid",
];
const NOUNS = [
  "otter",
  "heron",
  "lynx",
  "finch",
  "maple",
  "comet",
  "river",
  "cedar",
  "fox",
  "koala",
  "raven",
  "tern",
  "wren",
  "yak",
  "bison",
  "crane",
];

/** MLflow names unnamed runs `<adjective>-<noun>-<n>`; so does Lathe, with its own words. */
function generatedRunName(): string {
  const pick = (words: string[]) => words[Math.floor(Math.random() * words.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`;
}
