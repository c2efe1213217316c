/**
 * A run's artifacts under /api/v1 (issue #3), for the Lathe clients' log_artifact and the Runs
 * view (MLflow clients use `/api/2.0/mlflow-artifacts/`, same store):
 *   GET /api/v1/runs/:id/artifacts          → RunArtifact[]
 *   PUT /api/v1/runs/:id/artifacts/<path>   raw bytes → RunArtifact (an upload again replaces it)
 *   GET /api/v1/runs/:id/artifacts/<path>   → the bytes
 */
import type { ServerResponse } from "node:http";
import type { RunArtifact } from "../../../../schemas/api";
import type { Context } from "../../context";
import { openObject } from "../../data/store";
import { LatheError } from "../../errors";
import { artifactAt, checkRelative, putArtifact, runArtifacts } from "../../tracking/artifacts";
import { requireActiveRun } from "../../tracking/ingest";
import { requireRun } from "../../tracking/records";
import type { Router } from "../router";

export function registerArtifactRoutes(router: Router, ctx: Context): void {
  router.add("GET", "/api/v1/runs/:id/artifacts", ({ params }): RunArtifact[] => {
    requireRun(ctx.db, params.id!);
    return runArtifacts(ctx.db, params.id!);
  });

  router.add(
    "PUT",
    "/api/v1/runs/:id/artifacts/*path",
    async ({ params, req }): Promise<RunArtifact> => {
      const path = artifactPath(params.path!);
      requireActiveRun(ctx, params.id!);
      return putArtifact(ctx, params.id!, path, req);
    },
    undefined,
    { rawBody: true },
  );

  router.add("GET", "/api/v1/runs/:id/artifacts/*path", async ({ params, res }) => {
    requireRun(ctx.db, params.id!);
    const artifact = artifactAt(ctx.db, params.id!, artifactPath(params.path!));
    await sendObject(ctx, artifact, res);
    return undefined;
  });
}

/** The path inside the run's artifacts, as a Lathe error (the checks are MLflow's). */
function artifactPath(raw: string): string {
  try {
    return checkRelative(raw);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new LatheError("LATHE_BAD_INPUT", message, { field: "path", path: raw });
  }
}

/** Streams an artifact's bytes from the content store (Lathe's and MLflow's download routes). */
export async function sendObject(
  ctx: Context,
  artifact: RunArtifact,
  res: ServerResponse,
): Promise<void> {
  const file = await openObject(ctx.ws, artifact.oid);
  res.writeHead(200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": artifact.size,
    "Cache-Control": "no-store",
  });
  const stream = file.createReadStream();
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject).on("end", resolve);
    stream.pipe(res);
  });
}
