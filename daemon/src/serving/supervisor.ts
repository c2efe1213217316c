/**
 * The daemon's side of serving: one worker process per deployment name (the model's name),
 * recorded in the `deployments` table. A redeploy starts the new worker first and stops the old
 * one only once the new one answers, so a deployment never goes dark on a bad new version.
 */
import { existsSync } from "node:fs";
import type { Deployment, DeploymentState } from "../../../schemas/api";
import type { Context } from "../context";
import { objectPath } from "../data/objects";
import { LatheError, toLatheError } from "../errors";
import { checkModelName, getVersion } from "../registry/models";
import { lastLines, spawnWorker, stopWorker, type WorkerProcess } from "./spawn";

export interface SupervisorOptions {
  /** How long a worker may take to load its model and listen (default 60 s). */
  readyTimeoutMs?: number;
}

interface DeploymentRow {
  name: string;
  model: string;
  version: number;
  state: DeploymentState;
  port: number | null;
  pid: number | null;
  started_at: number;
  error: string | null;
}

export class Supervisor {
  private readonly workers = new Map<string, WorkerProcess>();
  /** Per-name queue: deploys and undeploys of one name run one after another. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private isClosed = false;

  constructor(
    private readonly ctx: Context,
    private readonly options: SupervisorOptions = {},
  ) {
    // Workers die with the daemon that started them (they exit when IPC closes).
    ctx.db
      .prepare(
        "UPDATE deployments SET state = 'stopped', port = NULL, pid = NULL WHERE state IN ('starting', 'ready')",
      )
      .run();
  }

  list(): Deployment[] {
    const rows = this.ctx.db
      .prepare("SELECT * FROM deployments ORDER BY name")
      .all() as DeploymentRow[];
    return rows.map(toDeployment);
  }

  get(name: string): Deployment {
    const row = this.ctx.db.prepare("SELECT * FROM deployments WHERE name = ?").get(name) as
      DeploymentRow | undefined;
    if (!row) {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `No deployment named '${name}'; deploy it with 'lathe deploy ${name}'.`,
        { name },
      );
    }
    return toDeployment(row);
  }

  /**
   * Deploys a model version (default: latest) under the model's name and resolves once its worker
   * answers. `token` is what the worker will require from clients: the daemon's token.
   */
  deploy(model: string, version: number | undefined, token: string): Promise<Deployment> {
    checkModelName(model);
    if (this.isClosed) {
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        "The daemon is shutting down; deploy again once it has restarted.",
      );
    }
    const target = getVersion(this.ctx, model, version);
    return this.serialize(model, () => this.replace(model, target.version, target.oid, token));
  }

  /** Stops a deployment's worker; the row stays, in state `stopped`. */
  undeploy(name: string): Promise<Deployment> {
    this.get(name);
    return this.serialize(name, async () => {
      const worker = this.workers.get(name);
      this.workers.delete(name);
      if (worker) {
        await stopWorker(worker);
      }
      this.setState(name, "stopped", { port: null, pid: null, error: null });
      this.ctx.log.info({ name }, "deployment stopped");
      return this.get(name);
    });
  }

  /** Refuses new deploys, lets started ones finish, then stops every worker: the shutdown hook. */
  async stopAll(): Promise<void> {
    this.isClosed = true;
    await Promise.all([...this.queues.values()]);
    const names = [...this.workers.keys()];
    await Promise.all(names.map((name) => this.undeploy(name)));
  }

  private async replace(
    name: string,
    version: number,
    oid: string,
    token: string,
  ): Promise<Deployment> {
    const previous = this.workers.get(name);
    const modelPath = objectPath(this.ctx.ws, oid);
    if (!existsSync(modelPath)) {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `The ONNX file of ${name}@${version} (${oid.slice(0, 12)}) is missing from the content store.`,
        { model: name, version, oid },
      );
    }
    if (!previous) {
      this.upsert({
        name,
        model: name,
        version,
        state: "starting",
        port: null,
        pid: null,
        started_at: Date.now(),
        error: null,
      });
    }

    let worker: WorkerProcess;
    try {
      worker = await spawnWorker(
        {
          type: "config",
          modelPath,
          model: name,
          version,
          signature: getVersion(this.ctx, name, version).signature,
          token,
          host: "127.0.0.1",
          port: 0,
        },
        this.ctx.ws.logsDir,
        this.options.readyTimeoutMs ?? 60_000,
      );
    } catch (err) {
      const error = toLatheError(err);
      this.ctx.log.warn(
        { name, version, code: error.code, message: error.message },
        "deployment failed to start",
      );
      if (!previous) {
        this.setState(name, "failed", { port: null, pid: null, error: error.message });
      }
      throw error;
    }

    this.workers.set(name, worker);
    this.watch(name, worker);
    this.upsert({
      name,
      model: name,
      version,
      state: "ready",
      port: worker.port,
      pid: worker.child.pid ?? null,
      started_at: Date.now(),
      error: null,
    });
    this.ctx.log.info(
      { name, version, port: worker.port, pid: worker.child.pid },
      "deployment ready",
    );
    if (previous) {
      await stopWorker(previous);
    }
    return this.get(name);
  }

  /** Marks a deployment failed when its worker exits without being asked to. */
  private watch(name: string, worker: WorkerProcess): void {
    worker.child.once("exit", (code, signal) => {
      if (worker.isStopping || this.workers.get(name) !== worker) {
        return;
      }
      this.workers.delete(name);
      const error = `The serving worker exited (${signal ?? `code ${code}`}): ${lastLines(worker.tail())}`;
      this.ctx.log.error({ name, code, signal }, "serving worker exited unexpectedly");
      // FIXME(#5): restart a crashed worker with backoff instead of leaving the deployment failed.
      this.setState(name, "failed", { port: null, pid: null, error });
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

  private upsert(row: DeploymentRow): void {
    this.ctx.db
      .prepare(
        `INSERT INTO deployments (name, model, version, state, port, pid, started_at, error)
         VALUES (@name, @model, @version, @state, @port, @pid, @started_at, @error)
         ON CONFLICT(name) DO UPDATE SET model = @model, version = @version, state = @state,
           port = @port, pid = @pid, started_at = @started_at, error = @error`,
      )
      .run(row);
    this.ctx.events.emit({ type: "deployments/changed", name: row.name });
  }

  private setState(
    name: string,
    state: DeploymentState,
    fields: { port: number | null; pid: number | null; error: string | null },
  ): void {
    this.ctx.db
      .prepare("UPDATE deployments SET state = ?, port = ?, pid = ?, error = ? WHERE name = ?")
      .run(state, fields.port, fields.pid, fields.error, name);
    this.ctx.events.emit({ type: "deployments/changed", name });
  }
}

function toDeployment(row: DeploymentRow): Deployment {
  const isServing = row.state === "ready" && row.port !== null;
  return {
    name: row.name,
    model: row.model,
    version: row.version,
    state: row.state,
    url: isServing ? `http://127.0.0.1:${row.port}` : null,
    port: row.port,
    pid: row.pid,
    startedAt: row.started_at,
    error: row.error,
  };
}
