/**
 * Registering a run's ONNX output as the next version of a model: the bytes come from the
 * content store, the signature from the model itself, metrics and params from the run.
 */
import { readFileSync } from "node:fs";
import type { ModelVersion } from "../../../schemas/api";
import type { Context } from "../context";
import { objectPath } from "../data/objects";
import { LatheError } from "../errors";
import { checkModelName, getVersion } from "./models";
import { readSignature } from "./signature";

export interface RegisterInput {
  model: string;
  runId: string;
  /** The run output to register; defaults to its only `.onnx` file output. */
  path?: string;
}

interface RunFile {
  path: string;
  oid: string;
}

/** Adds version max+1 of `model` (creating the model) and emits `models/changed`. */
export function register(ctx: Context, input: RegisterInput): ModelVersion {
  checkModelName(input.model);
  const output = pickOutput(ctx, input.runId, input.path);
  const bytes = readObject(ctx, output);
  const signature = readSignature(bytes, output.path);

  const now = Date.now();
  const version = ctx.db
    .transaction(() => {
      ctx.db
        .prepare("INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)")
        .run(input.model, now);
      const { next } = ctx.db
        .prepare("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = ?")
        .get(input.model) as { next: number };
      ctx.db
        .prepare(
          `INSERT INTO model_versions (model, version, run_id, oid, path, signature, metrics, params, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.model,
          next,
          input.runId,
          output.oid,
          output.path,
          JSON.stringify(signature),
          JSON.stringify(latestMetrics(ctx, input.runId)),
          JSON.stringify(runParams(ctx, input.runId)),
          now,
        );
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

function pickOutput(ctx: Context, runId: string, path: string | undefined): RunFile {
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
    const found = outs.find((o) => o.path === wanted);
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

/** The latest value of each metric of a run: the highest step, then the latest timestamp. */
function latestMetrics(ctx: Context, runId: string): Record<string, number | null> {
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
