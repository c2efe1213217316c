/**
 * Registering a run's ONNX output as the next version of a model: the bytes come from the
 * content store, the signature from the model itself, metrics and params from the run.
 */
import { readFileSync } from "node:fs";
import type { ModelVersion } from "../../../schemas/api";
import type { Context } from "../context";
import { objectPath } from "../data/objects";
import { LatheError } from "../errors";
import { resolveRunId } from "../store/runs";
import { checkModelName, getVersion } from "./models";
import { readSignature } from "./signature";

export interface RegisterInput {
  model: string;
  runId: string;
  /**
   * The run output to register (or an MLflow artifact of the run: a file, or a folder holding
   * one .onnx file); defaults to its only `.onnx` file output.
   */
  path?: string;
  description?: string;
  /** Tags the version starts with. */
  tags?: Record<string, string>;
  /**
   * Runs of the stages that evaluated this output: their metrics override the run's same-named
   * ones, later runs over earlier.
   */
  metricRuns?: string[];
}

interface RunFile {
  path: string;
  oid: string;
}

/**
 * Adds the next version of `model` (one past the highest it ever had) (creating the model), with
 * its description and tags in the same transaction, and emits `models/changed`.
 */
export function register(ctx: Context, asked: RegisterInput): ModelVersion {
  checkModelName(asked.model);
  const input = withModelRun(ctx, { ...asked, runId: resolveRunId(ctx.db, asked.runId) });
  const output = runOutput(ctx, input.runId, input.path);
  const lineage = runLineage(ctx, input.runId);
  const { metrics, metricStages } = versionMetrics(ctx, [input.runId, ...(input.metricRuns ?? [])]);
  const bytes = readObject(ctx, output);
  const signature = readSignature(bytes, output.path);

  const now = Date.now();
  const version = ctx.db
    .transaction(() => {
      ctx.db
        .prepare("INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)")
        .run(input.model, now);
      // last_version outlives deleted versions, so their numbers are not handed out again.
      const { next } = ctx.db
        .prepare(
          `SELECT MAX(m.last_version, COALESCE(MAX(v.version), 0)) + 1 AS next
           FROM models m LEFT JOIN model_versions v ON v.model = m.name WHERE m.name = ?`,
        )
        .get(input.model) as { next: number };
      ctx.db.prepare("UPDATE models SET last_version = ? WHERE name = ?").run(next, input.model);
      ctx.db
        .prepare(
          `INSERT INTO model_versions (model, version, run_id, oid, path, signature, metrics,
             metric_stages, params, created_at, git_commit, data_ids, description, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.model,
          next,
          input.runId,
          output.oid,
          output.path,
          JSON.stringify(signature),
          JSON.stringify(metrics),
          JSON.stringify(metricStages),
          JSON.stringify(runParams(ctx, input.runId)),
          now,
          lineage.gitCommit,
          JSON.stringify(lineage.dataIds),
          input.description ?? "",
          now,
        );
      const tag = ctx.db.prepare(
        "INSERT INTO model_version_tags (model, version, key, value) VALUES (?, ?, ?, ?)",
      );
      for (const [key, value] of Object.entries(input.tags ?? {})) {
        tag.run(input.model, next, key, value);
      }
      return next;
    })
    .immediate();

  ctx.log.info(
    { model: input.model, version, runId: input.runId, path: output.path },
    "model registered",
  );
  ctx.events.emit({ type: "models/changed", model: input.model });
  return getVersion(ctx, input.model, version);
}

/**
 * Registering from a stage run that wrote no .onnx file but read one (an evaluate stage, which
 * carries the test metrics) registers that model, from the run that wrote those exact bytes,
 * with the asked run's metrics over that run's: the editor and the CLI agree on this.
 */
function withModelRun(ctx: Context, input: RegisterInput): RegisterInput {
  if (input.path !== undefined || onnxOuts(ctx, input.runId).length > 0) {
    return input;
  }
  const read = ctx.db
    .prepare(
      "SELECT DISTINCT oid FROM run_files WHERE run_id = ? AND direction = 'in' AND lower(path) LIKE '%.onnx'",
    )
    .all(input.runId) as { oid: string }[];
  if (read.length !== 1) {
    return input; // None or several: runOutput says so, naming the asked run.
  }
  const writer = ctx.db
    .prepare(
      `SELECT f.run_id AS id FROM run_files f JOIN runs r ON r.id = f.run_id
       WHERE f.direction = 'out' AND f.oid = ? ORDER BY r.start_time DESC LIMIT 1`,
    )
    .get(read[0]!.oid) as { id: string } | undefined;
  if (!writer) {
    return input;
  }
  ctx.log.info(
    { asked: input.runId, runId: writer.id },
    "the asked run wrote no .onnx file; registering the model it read, from the run that wrote it",
  );
  return { ...input, runId: writer.id, metricRuns: [input.runId, ...(input.metricRuns ?? [])] };
}

function onnxOuts(ctx: Context, runId: string): RunFile[] {
  const outs = ctx.db
    .prepare("SELECT path, oid FROM run_files WHERE run_id = ? AND direction = 'out'")
    .all(runId) as RunFile[];
  return outs.filter((o) => o.path.toLowerCase().endsWith(".onnx"));
}

/** The run output a version would hold (see RegisterInput.path). */
export function runOutput(ctx: Context, runId: string, path: string | undefined): RunFile {
  const run = ctx.db.prepare("SELECT id FROM runs WHERE id = ?").get(runId);
  if (!run) {
    throw new LatheError("LATHE_NOT_FOUND", `Run '${runId}' does not exist.`, { runId });
  }
  const outs = ctx.db
    .prepare("SELECT path, oid FROM run_files WHERE run_id = ? AND direction = 'out' ORDER BY path")
    .all(runId) as RunFile[];
  const listed = outs.length ? outs.map((o) => o.path).join(", ") : "none";

  if (path !== undefined) {
    const wanted = path.replace(/\\/g, "/").replace(/^\.\//, "");
    const found = outs.find((o) => o.path === wanted) ?? artifactOutput(ctx, runId, wanted);
    if (!found) {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `Run '${runId}' has no output '${path}'; its outputs: ${listed}.`,
        { runId, path },
      );
    }
    return found;
  }

  const models = outs.filter((o) => o.path.toLowerCase().endsWith(".onnx"));
  if (models.length === 0) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `Run '${runId}' has no .onnx output; its outputs: ${listed}.`,
      { runId },
    );
  }
  if (models.length > 1) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `Run '${runId}' has several .onnx outputs (${models.map((m) => m.path).join(", ")}); name one with --path.`,
      { runId },
    );
  }
  return models[0]!;
}

/** An MLflow artifact of the run: the file itself, or the only .onnx file under a folder. */
function artifactOutput(ctx: Context, runId: string, path: string): RunFile | undefined {
  const rows = ctx.db
    .prepare("SELECT path, oid FROM artifacts WHERE run_id = ? ORDER BY path")
    .all(runId) as RunFile[];
  const file = rows.find((r) => r.path === path);
  if (file) {
    return file;
  }
  const prefix = path.replace(/\/+$/, "") + "/";
  const onnx = rows.filter((r) => r.path.startsWith(prefix) && r.path.endsWith(".onnx"));
  return onnx.length === 1 ? onnx[0] : undefined;
}

/** The source run's git commit and its inputs (the training deps) with their data ids. */
function runLineage(ctx: Context, runId: string): { gitCommit: string | null; dataIds: RunFile[] } {
  const run = ctx.db.prepare("SELECT git_commit FROM runs WHERE id = ?").get(runId) as
    { git_commit: string | null } | undefined;
  const dataIds = ctx.db
    .prepare("SELECT path, oid FROM run_files WHERE run_id = ? AND direction = 'in' ORDER BY path")
    .all(runId) as RunFile[];
  return { gitCommit: run?.git_commit ?? null, dataIds };
}

/** The version of `model` holding exactly these bytes, if one is registered already. */
export function versionWithOid(ctx: Context, model: string, oid: string): number | undefined {
  const row = ctx.db
    .prepare("SELECT version FROM model_versions WHERE model = ? AND oid = ? ORDER BY version DESC")
    .get(model, oid) as { version: number } | undefined;
  return row?.version;
}

function readObject(ctx: Context, output: RunFile): Uint8Array {
  const file = objectPath(ctx.ws, output.oid);
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `The content of '${output.path}' (${output.oid.slice(0, 12)}) is missing from the content store; re-run the stage that makes it.`,
        { path: output.path, oid: output.oid },
      );
    }
    if (code === "EISDIR") {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `'${output.path}' is a directory output; register a single .onnx file output.`,
        { path: output.path },
      );
    }
    throw err;
  }
}

/**
 * The latest metrics of `runs` (later runs' over earlier), each with the stage of its run: what a
 * version registered from `[run, ...metricRuns]` records, and what a gate judges on those runs.
 */
export function versionMetrics(
  ctx: Context,
  runs: string[],
): { metrics: Record<string, number | null>; metricStages: Record<string, string | null> } {
  const metrics: Record<string, number | null> = {};
  const metricStages: Record<string, string | null> = {};
  const stageOf = ctx.db.prepare("SELECT stage FROM runs WHERE id = ?");
  for (const runId of runs) {
    const stage = (stageOf.get(runId) as { stage: string | null } | undefined)?.stage ?? null;
    for (const [key, value] of Object.entries(latestMetrics(ctx, runId))) {
      metrics[key] = value;
      metricStages[key] = stage;
    }
  }
  return { metrics, metricStages };
}

/** The latest value of each metric of a run: the highest step, then the latest timestamp. */
export function latestMetrics(ctx: Context, runId: string): Record<string, number | null> {
  const rows = ctx.db
    .prepare("SELECT key, value FROM metrics WHERE run_id = ? ORDER BY step, timestamp, rowid")
    .all(runId) as { key: string; value: number | null }[];
  const metrics: Record<string, number | null> = {};
  for (const row of rows) {
    metrics[row.key] = row.value; // NaN and infinities are stored as NULL with their text.
  }
  return metrics;
}

function runParams(ctx: Context, runId: string): Record<string, string> {
  const rows = ctx.db
    .prepare("SELECT key, value FROM params WHERE run_id = ? ORDER BY key")
    .all(runId) as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}
