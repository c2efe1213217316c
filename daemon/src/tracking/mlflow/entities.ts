/**
 * Lathe's runs and experiments in MLflow's JSON (service.proto as MLflow's server writes it:
 * snake_case fields, int64 as numbers, NaN and ±Infinity as the strings "NaN", "Infinity",
 * "-Infinity", unset fields left out).
 */
import type { MetricValue } from "../../../../schemas/api";
import type { Db } from "../../store/db";
import { latestMetrics } from "../../store/runs";
import {
  keyValuesOf,
  runRecords,
  type ExperimentRecord,
  type KeyValue,
  type RunRecord,
} from "../records";

export interface MlflowMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface MlflowRunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MlflowMetric[]; params: KeyValue[]; tags: KeyValue[] };
  inputs: Record<string, never>;
}

export function artifactUri(run: { experimentId: string; id: string }): string {
  return `mlflow-artifacts:/${run.experimentId}/${run.id}/artifacts`;
}

export function toMlflowMetric(m: MetricValue): MlflowMetric {
  return { key: m.key, value: m.value ?? m.text ?? "NaN", timestamp: m.timestamp, step: m.step };
}

export function toRunInfo(run: RunRecord): MlflowRunInfo {
  const info: MlflowRunInfo = {
    run_id: run.id,
    run_uuid: run.id,
    run_name: run.name,
    experiment_id: run.experimentId,
    user_id: run.userId ?? "",
    status: run.status === "SKIPPED" ? "FINISHED" : run.status,
    start_time: run.startTime,
    artifact_uri: artifactUri(run),
    lifecycle_stage: run.lifecycleStage,
  };
  if (run.endTime !== null) {
    info.end_time = run.endTime;
  }
  return info;
}

/** Full runs (info, latest metrics, params, tags) for ids, in the order given. */
export function toMlflowRuns(db: Db, ids: string[]): MlflowRun[] {
  const runs = runRecords(db, ids);
  const metrics = latestMetrics(db, ids);
  const params = keyValuesOf(db, "params", ids);
  const tags = keyValuesOf(db, "tags", ids);
  return runs.map((run) => ({
    info: toRunInfo(run),
    data: {
      metrics: Object.values(metrics.get(run.id) ?? {}).map(toMlflowMetric),
      params: params.get(run.id) ?? [],
      tags: tags.get(run.id) ?? [],
    },
    inputs: {},
  }));
}

export function toMlflowExperiment(e: ExperimentRecord): Record<string, unknown> {
  return {
    experiment_id: e.id,
    name: e.name,
    artifact_location: e.artifactLocation ?? `mlflow-artifacts:/${e.id}`,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.createdAt,
    tags: Object.entries(e.tags).map(([key, value]) => ({ key, value })),
  };
}
