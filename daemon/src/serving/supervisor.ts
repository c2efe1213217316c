/**
 * The daemon's side of serving: one worker process per deployment name (the model's name),
 * recorded in the `deployments` table. A redeploy (new version, new split) is a `route` message
 * to the running worker: it loads the new version beside the old, switches in one step on the
 * same port and drains the old one, so clients never see an error or a new URL. A crashed worker
 * is restarted with backoff (restart.ts), on its old port when it is free.
 */
import { existsSync } from "node:fs";
import type {
  DeployRequest,
  Deployment,
  DeploymentStats,
  ServingOptions,
  TrafficShare,
} from "../../../schemas/api";
import type { Context } from "../context";
import { objectPath } from "../data/objects";
import { LatheError, toLatheError } from "../errors";
import type { SlotConfig } from "./protocol";
import {
  followError,
  isCollapse,
  isFollowing,
  replan,
  restartPlans,
  sameTraffic,
  type Plan,
} from "./follow";
import { Restarter } from "./restart";
import {
  optionsOf,
  readRow,
  readRows,
  toDeployment,
  trafficOf,
  writeError,
  writeRow,
  writeState,
  type DeploymentRow,
} from "./rows";
import { lastLines, spawnWorker, stopWorker, type WorkerProcess } from "./spawn";
import { parseTarget } from "../registry/target";
import { resolveDeployTarget } from "./target";
import { getVersion } from "../registry/models";
import { checkServable } from "./tensors";

export interface SupervisorOptions {
  /** How long a worker may take to load its model and listen (default 60 s). */
  readyTimeoutMs?: number;
  /** First restart delay after a crash (default 250 ms; doubles up to 10 s). */
  restartDelayMs?: number;
}

export class Supervisor {
  private readonly workers = new Map<string, WorkerProcess>();
  /** Per-name queue: deploys, undeploys and restarts of one name run one after another. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly restarter: Restarter;
  private readonly stopListening: () => void;
  private isClosed = false;

  constructor(
    private readonly ctx: Context,
    private readonly options: SupervisorOptions = {},
  ) {
    // Workers die with the daemon that started them (they exit when IPC closes).
    ctx.db
      .prepare(
        "UPDATE deployments SET state = 'stopped', port = NULL, pid = NULL WHERE state IN ('starting', 'ready', 'restarting')",
      )
      .run();
    this.restarter = new Restarter(ctx, options.restartDelayMs ?? 250, (name, port) =>
      this.serialize(name, () => this.restart(name, port)),
    );
    this.stopListening = ctx.events.on((event) => {
      if (event.type === "models/changed") {
        this.followAliases(event.model);
      }
    });
  }

  list(): Deployment[] {
    return readRows(this.ctx).map(toDeployment);
  }

  get(name: string): Deployment {
    return toDeployment(this.row(name));
  }

  /**
   * Deploys a target (`name`, `name@3`, `name@alias`; default the latest version), optionally
   * with a traffic split, and resolves once the worker serves it. `token` is what the worker
   * requires from clients: the daemon's token.
   */
  deploy(request: DeployRequest, token: string): Promise<Deployment> {
    if (this.isClosed) {
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        "The daemon is shutting down; deploy again once it has restarted.",
      );
    }
    const plan = this.plan(request);
    return this.serialize(plan.model, () => this.apply(plan, token));
  }

  /** Stops a deployment's worker; the row stays, in state `stopped`. */
  /**
   * Stops a deployment. One that is stopped already, or was never deployed, is LATHE_NOT_FOUND
   * naming what is deployed, as deploying an unknown model names the registered ones: a second
   * undeploy is a mistake about what runs, not a no-op to hide.
   */
  undeploy(name: string): Promise<Deployment> {
    this.liveRow(name);
    return this.serialize(name, async () => {
      this.liveRow(name); // A queued undeploy of the same name may have stopped it meanwhile.
      this.restarter.forget(name);
      const worker = this.workers.get(name);
      this.workers.delete(name);
      if (worker) {
        await stopWorker(worker);
      }
      writeState(this.ctx, name, "stopped", { port: null, pid: null, error: null });
      this.ctx.log.info({ name }, "deployment stopped");
      return this.get(name);
    });
  }

  /** The last seconds of traffic from the worker; zeros when the deployment is not serving. */
  async stats(name: string): Promise<DeploymentStats> {
    const row = this.row(name);
    const worker = this.workers.get(name);
    if (worker && row.state === "ready") {
      const answer = await worker.ask({ type: "stats" }, 5000);
      if (answer.type === "stats") {
        return answer.stats;
      }
    }
    const versions = trafficOf(row).map((t) => ({
      ...t,
      requests: 0,
      errors: 0,
      requestsPerSecond: 0,
      p95Ms: null,
      queueDepth: 0,
    }));
    return {
      name,
      windowSeconds: 10,
      requests: 0,
      errors: 0,
      requestsPerSecond: 0,
      p95Ms: null,
      versions,
    };
  }

  /** Refuses new deploys, lets started ones finish, then stops every worker: the shutdown hook. */
  async stopAll(): Promise<void> {
    this.isClosed = true;
    this.stopListening();
    this.restarter.cancelAll();
    await Promise.all([...this.queues.values()]);
    const names = [...this.workers.keys()];
    await Promise.all(names.map((name) => this.undeploy(name)));
  }

  private plan(request: DeployRequest): Plan {
    const parsed = parseTarget(request.model);
    const target =
      request.version === undefined ? request.model : `${parsed.model}@${request.version}`;
    const main = resolveDeployTarget(this.ctx, target);
    const options = { ...optionsOf(readRow(this.ctx, parsed.model)), ...pickOptions(request) };
    if (!request.split) {
      return {
        model: main.model,
        target,
        traffic: [{ version: main.version, percent: 100 }],
        options,
      };
    }

    const other = resolveDeployTarget(this.ctx, request.split.target);
    if (other.model !== main.model || other.version === main.version) {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `split.target '${request.split.target}' must name another version of '${main.model}' than ${main.version}.`,
        { field: "split.target", value: request.split.target },
      );
    }
    const percent = request.split.percent;
    const traffic = [
      { version: main.version, percent: 100 - percent },
      { version: other.version, percent },
    ];
    return { model: main.model, target, traffic, options };
  }

  private slotsOf(model: string, traffic: TrafficShare[]): SlotConfig[] {
    return traffic.map(({ version, percent }) => {
      const found = getVersion(this.ctx, model, version);
      const modelPath = objectPath(this.ctx.ws, found.oid);
      if (!existsSync(modelPath)) {
        throw new LatheError(
          "LATHE_NOT_FOUND",
          `The ONNX file of ${model}@${version} (${found.oid.slice(0, 12)}) is missing from the content store.`,
          { model, version, oid: found.oid },
        );
      }
      checkServable(`${model}@${version}`, found.signature);
      return { version, modelPath, signature: found.signature, weight: percent };
    });
  }

  private async apply(plan: Plan, token: string): Promise<Deployment> {
    const { model: name } = plan;
    const slots = this.slotsOf(name, plan.traffic);
    const running = this.workers.get(name);
    const row = readRow(this.ctx, name);
    if (running && row?.state === "ready") {
      const answer = await running.ask({ type: "route", slots, options: plan.options });
      if (answer.type === "route-failed") {
        throw new LatheError(
          answer.code,
          `The new version did not load; the old one keeps serving: ${answer.message}`,
          {
            model: name,
            versions: plan.traffic.map((t) => t.version),
          },
        );
      }
      this.record(plan, row.port, row.pid, row.restarts, "ready");
      this.ctx.log.info({ name, traffic: plan.traffic }, "deployment switched");
      return this.get(name);
    }

    this.restarter.forget(name);
    this.record(plan, null, null, 0, "starting");
    let worker: WorkerProcess;
    try {
      worker = await this.spawn(name, slots, plan.options, token, 0);
    } catch (err) {
      const error = toLatheError(err);
      this.ctx.log.warn(
        { name, code: error.code, message: error.message },
        "deployment failed to start",
      );
      this.record(plan, null, null, 0, "failed", error.message);
      throw error;
    }
    this.record(plan, worker.port, worker.child.pid ?? null, 0, "ready");
    this.ctx.log.info({ name, traffic: plan.traffic, port: worker.port }, "deployment ready");
    return this.get(name);
  }

  /**
   * Starts the worker after a crash, on `port` when it is still free. A deployment of an alias is
   * planned again, so it comes back on what the alias names now (follow.ts).
   */
  private async restart(name: string, port: number): Promise<void> {
    const row = readRow(this.ctx, name);
    if (!row || row.state !== "failed" || this.workers.has(name) || this.isClosed) {
      return; // Undeployed or redeployed meanwhile.
    }
    writeState(this.ctx, name, "restarting", { port: null, pid: null, error: row.error });
    try {
      // Inside the try: a model file gone from the store is one more failed attempt, not a crash.
      const { plans, error } = restartPlans(this.ctx, row);
      const started = await this.startFirst(row, port, plans);
      const { worker, plan } = started;
      const restarts = row.restarts + 1;
      this.record(
        plan,
        worker.port,
        worker.child.pid ?? null,
        restarts,
        "ready",
        started.error ?? error,
      );
      this.ctx.log.info(
        { name, port: worker.port, restarts, traffic: plan.traffic },
        "deployment restarted",
      );
    } catch (err) {
      const error = toLatheError(err);
      writeState(this.ctx, name, "failed", { port: null, pid: null, error: error.message });
      this.restarter.crashed(name, port);
    }
  }

  /**
   * Starts a worker on the first of `plans` that loads. Falling back past the first means the
   * alias moved to a version that cannot be served: that is the deployment's error.
   */
  private async startFirst(
    row: DeploymentRow,
    port: number,
    plans: Plan[],
  ): Promise<{ worker: WorkerProcess; plan: Plan; error: string | null }> {
    const token = this.ctx.daemon?.token ?? "";
    let firstError: LatheError | undefined;
    for (const [i, plan] of plans.entries()) {
      try {
        const slots = this.slotsOf(row.name, plan.traffic);
        const worker = await this.spawn(row.name, slots, plan.options, token, port).catch(() =>
          this.spawn(row.name, slots, plan.options, token, 0),
        );
        const error = firstError ? followError(row, plans[0], firstError) : null;
        return { worker, plan, error };
      } catch (err) {
        firstError ??= toLatheError(err);
        if (i === plans.length - 1) {
          throw err;
        }
      }
    }
    throw new LatheError("LATHE_INTERNAL", `No plan to restart ${row.name} with.`);
  }

  private async spawn(
    name: string,
    slots: SlotConfig[],
    options: ServingOptions,
    token: string,
    port: number,
  ): Promise<WorkerProcess> {
    const worker = await spawnWorker(
      { type: "config", model: name, slots, options, token, host: "127.0.0.1", port },
      this.ctx.ws.logsDir,
      this.options.readyTimeoutMs ?? 60_000,
    );
    const previous = this.workers.get(name);
    this.workers.set(name, worker);
    this.watch(name, worker);
    if (previous) {
      await stopWorker(previous);
    }
    return worker;
  }

  /** Marks a deployment failed when its worker exits without being asked to, and restarts it. */
  private watch(name: string, worker: WorkerProcess): void {
    const startedAt = Date.now();
    worker.child.once("exit", (code, signal) => {
      if (worker.isStopping || this.workers.get(name) !== worker) {
        return;
      }
      this.workers.delete(name);
      const error = `The serving worker exited (${signal ?? `code ${code}`}): ${lastLines(worker.tail())}`;
      this.ctx.log.error({ name, code, signal }, "serving worker exited unexpectedly");
      writeState(this.ctx, name, "failed", { port: null, pid: null, error });
      this.restarter.crashed(name, worker.port, Date.now() - startedAt);
    });
  }

  /** Queues a follow of every live deployment of an alias of `model`: the alias may have moved. */
  private followAliases(model: string): void {
    for (const row of readRows(this.ctx)) {
      if (row.model !== model || row.state === "stopped" || !isFollowing(row)) {
        continue;
      }
      this.serialize(row.name, () => this.follow(row.name)).catch((err: unknown) =>
        this.ctx.log.error({ name: row.name, err }, "following the alias failed"),
      );
    }
  }

  /**
   * Switches a serving deployment to what its alias names now. One that is not serving is left
   * alone: its restart plans again from the target. A failure keeps the old versions serving and
   * is the deployment's `error` until a later follow or deploy succeeds.
   */
  private async follow(name: string): Promise<void> {
    const row = readRow(this.ctx, name);
    const worker = this.workers.get(name);
    if (!row || row.state !== "ready" || !worker || this.isClosed) {
      return;
    }
    const served = trafficOf(row);
    let plan: Plan | undefined;
    try {
      plan = replan(this.ctx, row);
      if (sameTraffic(plan.traffic, served)) {
        if (row.error !== null) {
          writeError(this.ctx, name, null); // The alias names what serves again.
        }
        return;
      }
      await this.apply(plan, this.ctx.daemon?.token ?? "");
    } catch (err) {
      return this.followFailed(row, worker, plan, toLatheError(err));
    }
    const isPromotion = isCollapse(served, plan.traffic);
    this.ctx.log.info(
      { name, target: plan.target, from: served, to: plan.traffic },
      isPromotion
        ? "the split's other version was promoted to the alias: it now takes all the traffic"
        : "deployment followed its alias",
    );
  }

  private followFailed(
    row: DeploymentRow,
    worker: WorkerProcess,
    plan: Plan | undefined,
    err: LatheError,
  ): void {
    if (this.workers.get(row.name) !== worker) {
      return; // The worker crashed meanwhile; its restart plans again from the target.
    }
    const error = followError(row, plan, err);
    this.ctx.log.warn({ name: row.name, code: err.code, error }, "could not follow the alias");
    writeError(this.ctx, row.name, error);
  }

  private record(
    plan: Plan,
    port: number | null,
    pid: number | null,
    restarts: number,
    state: DeploymentRow["state"],
    error: string | null = null,
  ): void {
    writeRow(this.ctx, {
      name: plan.model,
      model: plan.model,
      version: plan.traffic[0]!.version,
      state,
      port,
      pid,
      started_at: Date.now(),
      error,
      target: plan.target,
      traffic: JSON.stringify(plan.traffic),
      options: JSON.stringify(plan.options),
      restarts,
    });
  }

  private row(name: string): DeploymentRow {
    const row = readRow(this.ctx, name);
    if (!row) {
      // A typo is the likely cause: name what is deployed rather than suggest deploying the typo.
      const live = readRows(this.ctx).filter((r) => r.state !== "stopped");
      const deployed = live.length
        ? `deployed: ${live.map((r) => r.name).join(", ")}`
        : "nothing is deployed; deploy a model with 'lathe deploy <model>'";
      throw new LatheError("LATHE_NOT_FOUND", `No deployment named '${name}' (${deployed}).`, {
        name,
        deployed: live.map((r) => r.name),
      });
    }
    return row;
  }

  /** The row of a deployment that is not stopped (a failed one can still be undeployed). */
  private liveRow(name: string): DeploymentRow {
    const row = readRow(this.ctx, name);
    if (row && (row.state !== "stopped" || this.workers.has(name))) {
      return row;
    }
    const live = readRows(this.ctx).filter((r) => r.state !== "stopped" && r.name !== name);
    const deployed = live.length
      ? `deployed: ${live.map((r) => r.name).join(", ")}`
      : "nothing is deployed";
    throw new LatheError("LATHE_NOT_FOUND", `${name} is not deployed (${deployed}).`, {
      name,
      deployed: live.map((r) => r.name),
    });
  }

  private serialize<T>(name: string, job: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(job, job);
    const settled = next.then(
      () => undefined,
      () => undefined, // The caller gets the error from `next`; the queue only needs the turn.
    );
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) {
        this.queues.delete(name);
      }
    });
    return next;
  }
}

function pickOptions(request: DeployRequest): Partial<ServingOptions> {
  const options: Partial<ServingOptions> = {};
  if (request.maxBatchRows !== undefined) {
    options.maxBatchRows = request.maxBatchRows;
  }
  if (request.maxDelayMs !== undefined) {
    options.maxDelayMs = request.maxDelayMs;
  }
  if (request.maxQueue !== undefined) {
    options.maxQueue = request.maxQueue;
  }
  return options;
}
