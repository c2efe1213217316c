/**
 * Run artifacts: files uploaded through `/api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/
 * artifacts/<path>`, kept as blobs in the content store (write-once, by id) and listed per run in
 * the `artifacts` table. A path uploaded again points at the new blob.
 */
import type { IncomingMessage } from "node:http";
import { open, unlink } from "node:fs/promises";
import type { Context } from "../context";
import { hashFile } from "../data/hash";
import { OBJECT_MODE, commitObject, syncDirs, tempObjectPath } from "../data/objects";
import type { Db } from "../store/db";
import { LatheError } from "../errors";
import { mlflowError } from "./mlflow/errors";
import { normpath } from "./validate";

export interface ArtifactRow {
  path: string;
  oid: string;
  size: number;
}

/** What MLflow's list answers: a name relative to the listed folder, files with their size. */
export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** `<experiment>/<run>/artifacts[/<path>]` → the run and the path inside its artifacts. */
export function parseArtifactPath(full: string): {
  experimentId: string;
  runId: string;
  path: string;
} {
  const parts = full.split("/").filter((p) => p !== "");
  if (parts.length < 3 || parts[2] !== "artifacts") {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Artifact path '${full}' is not <experiment_id>/<run_id>/artifacts/<path>.`,
      { path: full },
    );
  }
  return {
    experimentId: parts[0]!,
    runId: parts[1]!,
    path: checkRelative(parts.slice(3).join("/")),
  };
}

/** A path inside a run's artifacts: relative, normalised, never leaving the run. */
export function checkRelative(path: string): string {
  if (path === "") {
    return "";
  }
  if (normpath(path) !== path || path.startsWith("..") || path.startsWith("/")) {
    throw mlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid path '${path}': it must stay inside the run's artifacts.`,
      {
        path,
      },
    );
  }
  return path;
}

/** Streams the request body into the content store and records it as the run's `path`. */
export async function putArtifact(
  ctx: Context,
  runId: string,
  path: string,
  body: IncomingMessage,
): Promise<ArtifactRow> {
  if (path === "") {
    throw mlflowError("INVALID_PARAMETER_VALUE", "An artifact upload needs a file path.");
  }
  const temp = await tempObjectPath(ctx.ws);
  let blob: { oid: string; size: number };
  try {
    const out = await open(temp, "wx", OBJECT_MODE);
    try {
      for await (const chunk of body) {
        await out.write(chunk as Buffer);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    blob = await hashFile(temp);
    await syncDirs([await commitObject(ctx.ws, temp, blob.oid)]);
  } catch (err) {
    await unlink(temp).catch(() => undefined); // Already linked away or never written.
    throw err;
  }
  ctx.db
    .prepare(
      `INSERT INTO artifacts (run_id, path, oid, size, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, path) DO UPDATE SET oid = excluded.oid, size = excluded.size,
         created_at = excluded.created_at`,
    )
    .run(runId, path, blob.oid, blob.size, Date.now());
  ctx.events.emit({ type: "runs/changed", runId });
  return { path, ...blob };
}

export function runArtifacts(db: Db, runId: string): ArtifactRow[] {
  return db
    .prepare("SELECT path, oid, size FROM artifacts WHERE run_id = ? ORDER BY path")
    .all(runId) as ArtifactRow[];
}

/** The direct children of folder `dir` ("" for the root): files, and folders once each. */
export function listArtifactDir(db: Db, runId: string, dir: string): FileInfo[] {
  const prefix = dir === "" ? "" : `${dir}/`;
  const seen = new Map<string, FileInfo>();
  for (const row of runArtifacts(db, runId)) {
    if (!row.path.startsWith(prefix)) {
      continue;
    }
    const rest = row.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    const name = slash === -1 ? rest : rest.slice(0, slash);
    if (!seen.has(name)) {
      seen.set(
        name,
        slash === -1
          ? { path: name, is_dir: false, file_size: row.size }
          : { path: name, is_dir: true },
      );
    }
  }
  return [...seen.values()];
}

export function artifactAt(db: Db, runId: string, path: string): ArtifactRow {
  const row = db
    .prepare("SELECT path, oid, size FROM artifacts WHERE run_id = ? AND path = ?")
    .get(runId, path) as ArtifactRow | undefined;
  if (!row) {
    throw new LatheError("LATHE_NOT_FOUND", `No artifact '${path}' in run ${runId}.`, {
      runId,
      path,
    });
  }
  return row;
}
