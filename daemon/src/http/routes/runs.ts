/** Experiments, runs and the pipeline (`pipeline/repro`, `status`, `dag`, `cancel`) under /api/v1. */
import { reproRequestSchema, type ReproRequest } from "../../../../schemas/api";
import type { Context } from "../../context";
import type { ShutdownHook } from "../../daemon";
import { LatheError } from "../../errors";
import { repro } from "../../services/repro";
import { pipelineDag, pipelineStatus } from "../../services/repro-status";
import { experimentById, listExperiments } from "../../store/experiments";
import { sendJsonText } from "../../access";
import { getRun } from "../../store/runs";
import { listRunsJson } from "../../store/runs-json";
import type { Router } from "../router";

export function registerRunRoutes(
  router: Router,
  ctx: Context,
  onShutdown: (hook: ShutdownHook) => void,
): void {
  /** Every experiment with its run count. */
  router.add("GET", "/api/v1/experiments", () => listExperiments(ctx.db));

  /**
   * Runs, newest first. `experiment=<id>` filters by experiment; `parent=<id>` gives a run's
   * children, `parent=none` the runs without a parent and `parent=top` those whose parent is not
   * listed with them (the Runs view's top level); `limit=<n>` and `offset=<n>` take a page;
   * `children=include` adds the children of the runs on the page; `deleted=include` lists
   * deleted runs too.
   */
  router.add("GET", "/api/v1/runs", ({ query, res }) => {
    const experimentId = query.get("experiment") ?? undefined;
    if (experimentId !== undefined && !experimentById(ctx.db, experimentId)) {
      throw new LatheError("LATHE_NOT_FOUND", `No experiment '${experimentId}'.`, {
        experiment: experimentId,
      });
    }
    const parent = query.get("parent");
    const topLevel = parent === "top";
    const parentId = parent === null || topLevel ? undefined : parent === "none" ? null : parent;
    const includeDeleted = include(query, "deleted");
    const withChildren = include(query, "children");
    const limit = parseLimit(query.get("limit"));
    const offset = parseOffset(query.get("offset"));
    // Serialized by SQLite: 10,000 runs as objects cost three times the queries.
    const filter = {
      experimentId,
      parentId,
      topLevel,
      limit,
      offset,
      withChildren,
      includeDeleted,
    };
    sendJsonText(res, 200, listRunsJson(ctx.db, filter));
    return undefined;
  });

  /** One run with params, latest metrics, files, log and error. */
  router.add("GET", "/api/v1/runs/:id", ({ params }) => getRun(ctx.db, params.id!));

  /** Each stage up to date, stale or frozen, with every reason (PipelineStatus). */
  router.add("GET", "/api/v1/pipeline/status", () => pipelineStatus(ctx));

  /** The stage graph in run order (PipelineDag). */
  router.add("GET", "/api/v1/pipeline/dag", () => pipelineDag(ctx.ws.root));

  // One repro at a time: a second request gets 409 here, and a CLI repro holds the repro lock.
  let running: { abort: AbortController; done: Promise<unknown> } | undefined;
  onShutdown(async () => {
    running?.abort.abort();
    await running?.done.catch(() => undefined); // Its outcome is recorded in its runs already.
  });

  /** Runs the pipeline inside the daemon and answers with the ReproResult when it is done. */
  router.add(
    "POST",
    "/api/v1/pipeline/repro",
    async ({ body }) => {
      const request = (body ?? {}) as ReproRequest;
      if (running) {
        throw new LatheError("LATHE_CONFLICT", "A repro is already running in this workspace.");
      }
      const abort = new AbortController();
      const done = repro(ctx, {
        stages: request.stages,
        force: request.force,
        downstream: request.downstream,
        jobs: request.jobs,
        api: ctx.daemon,
        signal: abort.signal,
      });
      running = { abort, done };
      try {
        return await done;
      } finally {
        if (running?.done === done) {
          running = undefined;
        }
      }
    },
    reproRequestSchema,
  );

  /** Cancels the running repro: every running stage's process group is killed. */
  router.add("POST", "/api/v1/pipeline/cancel", () => {
    running?.abort.abort();
    return { cancelled: running !== undefined };
  });
}

function parseLimit(raw: string | null): number | undefined {
  if (raw === null) {
    return undefined;
  }
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new LatheError("LATHE_BAD_INPUT", "limit must be an integer from 1 to 10000.", {
      limit: raw,
    });
  }
  return limit;
}

function parseOffset(raw: string | null): number | undefined {
  if (raw === null) {
    return undefined;
  }
  const offset = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(offset)) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `offset must be an integer of 0 or more, not '${raw}'.`,
      {
        offset: raw,
      },
    );
  }
  return offset;
}

/** `name=include` is true, no `name` false; any other value is refused, naming it. */
function include(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw !== null && raw !== "include") {
    throw new LatheError("LATHE_BAD_INPUT", `${name} must be 'include', not '${raw}'.`, {
      [name]: raw,
    });
  }
  return raw === "include";
}
