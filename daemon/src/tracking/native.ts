/**
 * The native (`/api/v1`) side of run queries and edits: search with MLflow's filter language,
 * tags, and the delete/restore lifecycle. Errors are Lathe's own (`{code, message, data}`) and
 * quote the request field at fault; every change tells the event stream.
 */
import type { RunSummary, SearchRunsRequest, SearchRunsResult } from "../../../schemas/api";
import type { Context } from "../context";
import { LatheError } from "../errors";
import type { Db } from "../store/db";
import { runSummaries } from "../store/runs";
import { deleteTag, requireRun, setRunLifecycle, upsertTags, type Lifecycle } from "./records";
import { searchRunIds } from "./search";
import { checkKey } from "./validate";

/** One page of runs matching a search, in order, and the token of the next page. */
export function searchRuns(db: Db, request: SearchRunsRequest): SearchRunsResult {
  let page: { ids: string[]; nextPageToken?: string };
  try {
    page = searchRunIds(db, {
      experimentIds: request.experimentIds ?? [],
      filter: request.filter,
      orderBy: request.orderBy,
      maxResults: request.maxResults,
      pageToken: request.pageToken,
      viewType: request.includeDeleted ? "ALL" : "ACTIVE_ONLY",
    });
  } catch (err) {
    throw err instanceof LatheError ? quoteField(err, request) : err;
  }
  return { runs: runSummaries(db, page.ids), nextPageToken: page.nextPageToken ?? null };
}

/** Restates a search error with the native field name and the value at fault, quoted. */
function quoteField(err: LatheError, request: SearchRunsRequest): LatheError {
  const field = err.data.field;
  const [name, value] =
    field === "order_by"
      ? ["orderBy", String(err.data.value)]
      : field === "page_token"
        ? ["pageToken", request.pageToken ?? ""]
        : ["filter", request.filter ?? ""];
  return new LatheError("LATHE_BAD_INPUT", `Bad ${name} "${value}": ${err.message}`, {
    field: name,
    value,
  });
}

/** Sets one tag (a later value replaces it); the run must exist and not be deleted. */
export function setTag(ctx: Context, runId: string, key: string, value: string): RunSummary {
  const tagKey = requireKey(key);
  requireActive(ctx.db, runId);
  upsertTags(ctx.db, runId, [{ key: tagKey, value }]);
  return changed(ctx, runId);
}

/** Removes one tag; LATHE_NOT_FOUND when the run has no such tag. */
export function removeTag(ctx: Context, runId: string, key: string): RunSummary {
  requireActive(ctx.db, runId);
  if (!deleteTag(ctx.db, runId, key)) {
    throw new LatheError("LATHE_NOT_FOUND", `Run ${runId} has no tag '${key}'.`, { runId, key });
  }
  return changed(ctx, runId);
}

/**
 * Soft delete (MLflow's lifecycle "deleted") or restore. Nothing is removed: the run is hidden
 * from lists and searches unless they ask for deleted runs. Doing it twice is not an error.
 *
 * A run's descendants (a repro's stage runs, and runs nested under those) go with it: deleting a
 * repro leaves no orphans at the top of the list. They are stamped with the same deleted time,
 * so a restore brings back exactly what that delete took, and a child deleted on its own before
 * stays deleted. MLflow's `runs/delete` keeps its one-run semantics (mlflow/routes).
 */
export function setLifecycle(ctx: Context, runId: string, stage: Lifecycle): RunSummary {
  const changedIds = ctx.db.transaction(() => {
    const run = requireRun(ctx.db, runId);
    if (run.lifecycleStage === stage) {
      // Deleting again must not restamp: the stamp is what a restore matches its children by.
      return [];
    }
    const stamp = stage === "deleted" ? Date.now() : deletedTime(ctx.db, runId);
    const ids = [runId, ...descendants(ctx.db, runId, stage === "deleted" ? "active" : stamp)];
    for (const id of ids) {
      setRunLifecycle(ctx.db, id, stage, stamp ?? Date.now());
    }
    return ids;
  })();
  const summary = changed(ctx, runId);
  for (const id of changedIds.slice(1)) {
    ctx.events.emit({ type: "runs/changed", runId: id });
  }
  return summary;
}

function deletedTime(db: Db, runId: string): number | null {
  const row = db.prepare("SELECT deleted_time FROM runs WHERE id = ?").get(runId) as {
    deleted_time: number | null;
  };
  return row.deleted_time;
}

/**
 * The run's descendants to change with it: for a delete the active ones; for a restore those
 * deleted at `stamp` (with it). A descendant left out also keeps its own subtree as it is.
 */
function descendants(db: Db, runId: string, which: "active" | number | null): string[] {
  const matches =
    which === "active"
      ? "r.lifecycle_stage = 'active'"
      : "r.lifecycle_stage = 'deleted' AND r.deleted_time IS ?";
  const rows = db
    .prepare(
      `WITH RECURSIVE tree (id) AS (
         SELECT ?
         UNION
         SELECT r.id FROM runs r JOIN tree ON r.parent_id = tree.id WHERE ${matches}
       )
       SELECT id FROM tree WHERE id <> ?`,
    )
    .all(...(which === "active" ? [runId, runId] : [runId, which, runId])) as { id: string }[];
  return rows.map((r) => r.id);
}

function requireKey(key: string): string {
  try {
    return checkKey("tag", key);
  } catch (err) {
    if (err instanceof LatheError) {
      throw new LatheError("LATHE_BAD_INPUT", err.message, { field: "key", key });
    }
    throw err;
  }
}

function requireActive(db: Db, runId: string): void {
  if (requireRun(db, runId).lifecycleStage === "deleted") {
    throw new LatheError(
      "LATHE_CONFLICT",
      `Run ${runId} is deleted; restore it (lathe runs restore ${runId}) before changing its tags.`,
      { runId },
    );
  }
}

function changed(ctx: Context, runId: string): RunSummary {
  ctx.events.emit({ type: "runs/changed", runId });
  return runSummaries(ctx.db, [runId])[0]!;
}
