/**
 * One way in for everything training code logs: a batch of metrics, params and tags, checked
 * whole before anything is written, then written in one transaction. The MLflow routes and the
 * native `POST /api/v1/runs/:id/batch` both end here.
 */
import type { Context } from "../context";
import { LatheError } from "../errors";
import { logMetrics, type MetricInput } from "../store/runs";
import { mlflowError } from "./mlflow/errors";
import { requireRun, updateRunInfo, upsertTags, type KeyValue, type RunRecord } from "./records";
import { checkBatchLimits, checkKey, checkValue, parseInt64, parseMetricValue } from "./validate";

/** MLflow keeps the run name in this tag too; setting it renames the run. */
export const RUN_NAME_TAG = "mlflow.runName";
export const PARENT_RUN_TAG = "mlflow.parentRunId";

export interface Batch {
  metrics: Required<MetricInput>[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface RawBatch {
  metrics?: unknown[];
  params?: unknown[];
  tags?: unknown[];
}

/** Checks a batch as MLflow's log-batch does; throws INVALID_PARAMETER_VALUE on the first fault. */
export function parseBatch(raw: RawBatch, now = Date.now()): Batch {
  const metrics = raw.metrics ?? [];
  const params = raw.params ?? [];
  const tags = raw.tags ?? [];
  checkBatchLimits(metrics.length, params.length, tags.length);
  const checked = new Set<string>(); // A batch of 1000 points has a handful of keys: check each once.
  const batch: Batch = {
    metrics: metrics.map((m) => parseMetric(m, now, checked)),
    params: params.map((p) => parseKeyValue("param", p)),
    tags: tags.map((t) => parseKeyValue("tag", t)),
  };
  const keys = batch.params.map((p) => p.key);
  const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (dupes.length > 0) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Duplicate parameter keys have been submitted: ${JSON.stringify(dupes)}. Please ensure the request contains only one param value per param key.`,
    );
  }
  return batch;
}

export function parseMetric(
  raw: unknown,
  now: number,
  checked = new Set<string>(),
): Required<MetricInput> {
  const m = asObject(raw, "metric");
  const key = typeof m.key === "string" && checked.has(m.key) ? m.key : checkKey("metric", m.key);
  checked.add(key);
  const { value, text } = parseMetricValue(key, m.value);
  // null is unset, as MLflow's JSON parsing leaves it.
  const timestamp =
    m.timestamp === undefined || m.timestamp === null ? now : parseInt64("timestamp", m.timestamp);
  if (timestamp < 0) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Got invalid timestamp ${timestamp} for metric '${key}'. Timestamp must be a nonnegative long (64-bit integer) `,
    );
  }
  const step = m.step === undefined || m.step === null ? 0 : parseInt64("step", m.step);
  return { key, value, text, timestamp, step };
}

export function parseKeyValue(kind: "param" | "tag", raw: unknown): KeyValue {
  const kv = asObject(raw, kind);
  const key = checkKey(kind === "param" ? "parameter" : "tag", kv.key);
  return { key, value: checkValue(kind, key, kv.value) };
}

function asObject(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw mlflowError("INVALID_PARAMETER_VALUE", `Each ${what} must be an object with a key.`);
  }
  return raw as Record<string, unknown>;
}

/** The run, which must exist and be active (MLflow refuses writes to a deleted run). */
export function requireActiveRun(ctx: Context, runId: string): RunRecord {
  const run = requireRun(ctx.db, runId);
  if (run.lifecycleStage !== "active") {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `The run ${runId} must be in the 'active' state. Current state is ${run.lifecycleStage}.`,
      { runId },
    );
  }
  return run;
}

/** Writes a parsed batch in one transaction and tells the event stream; all or nothing. */
export function writeBatch(ctx: Context, runId: string, batch: Batch): void {
  const db = ctx.db;
  db.transaction(() => {
    requireActiveRun(ctx, runId);
    writeParams(ctx, runId, batch.params);
    upsertTags(db, runId, batch.tags);
    const name = batch.tags.findLast((t) => t.key === RUN_NAME_TAG)?.value;
    if (name !== undefined) {
      updateRunInfo(db, runId, { name });
    }
    if (batch.metrics.length > 0) {
      logMetrics(db, runId, batch.metrics);
    }
  })();
  ctx.events.emit({ type: "runs/changed", runId });
}

/** Params are write-once: the same value again is fine, a new value is refused. */
function writeParams(ctx: Context, runId: string, params: KeyValue[]): void {
  const read = ctx.db.prepare("SELECT value FROM params WHERE run_id = ? AND key = ?");
  const insert = ctx.db.prepare(
    "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  for (const p of params) {
    const stored = read.get(runId, p.key) as { value: string } | undefined;
    if (stored && stored.value !== p.value) {
      // LATHE_CONFLICT (409) on Lathe's own routes, INVALID_PARAMETER_VALUE (400) on MLflow's.
      throw new LatheError(
        "LATHE_CONFLICT",
        `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${stored.value}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
        {
          runId,
          key: p.key,
          stored: stored.value,
          value: p.value,
          mlflowCode: "INVALID_PARAMETER_VALUE",
        },
      );
    }
    insert.run(runId, p.key, p.value);
  }
}
