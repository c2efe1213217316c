/**
 * The `deployments` table: one row per deployment name, read into the API's Deployment.
 */
import type {
  Deployment,
  DeploymentState,
  ServingOptions,
  TrafficShare,
} from "../../../schemas/api";
import type { Context } from "../context";

export const defaultOptions: ServingOptions = { maxBatchRows: 64, maxDelayMs: 2, maxQueue: 256 };

export interface DeploymentRow {
  name: string;
  model: string;
  version: number;
  state: DeploymentState;
  port: number | null;
  pid: number | null;
  started_at: number;
  error: string | null;
  target: string | null;
  /** JSON TrafficShare[] */
  traffic: string | null;
  /** JSON ServingOptions */
  options: string | null;
  restarts: number;
}

export function readRow(ctx: Context, name: string): DeploymentRow | undefined {
  return ctx.db.prepare("SELECT * FROM deployments WHERE name = ?").get(name) as
    DeploymentRow | undefined;
}

export function readRows(ctx: Context): DeploymentRow[] {
  return ctx.db.prepare("SELECT * FROM deployments ORDER BY name").all() as DeploymentRow[];
}

export function writeRow(ctx: Context, row: DeploymentRow): void {
  ctx.db
    .prepare(
      `INSERT INTO deployments (name, model, version, state, port, pid, started_at, error, target,
         traffic, options, restarts)
       VALUES (@name, @model, @version, @state, @port, @pid, @started_at, @error, @target,
         @traffic, @options, @restarts)
       ON CONFLICT(name) DO UPDATE SET model = @model, version = @version, state = @state,
         port = @port, pid = @pid, started_at = @started_at, error = @error, target = @target,
         traffic = @traffic, options = @options, restarts = @restarts`,
    )
    .run(row);
  ctx.events.emit({ type: "deployments/changed", name: row.name });
}

export function writeState(
  ctx: Context,
  name: string,
  state: DeploymentState,
  fields: { port: number | null; pid: number | null; error: string | null },
): void {
  ctx.db
    .prepare("UPDATE deployments SET state = ?, port = ?, pid = ?, error = ? WHERE name = ?")
    .run(state, fields.port, fields.pid, fields.error, name);
  ctx.events.emit({ type: "deployments/changed", name });
}

/** Records (or clears, with null) a deployment's error without touching its state. */
export function writeError(ctx: Context, name: string, error: string | null): void {
  ctx.db.prepare("UPDATE deployments SET error = ? WHERE name = ?").run(error, name);
  ctx.events.emit({ type: "deployments/changed", name });
}

export function trafficOf(row: DeploymentRow): TrafficShare[] {
  return row.traffic
    ? (JSON.parse(row.traffic) as TrafficShare[])
    : [{ version: row.version, percent: 100 }];
}

export function optionsOf(row: DeploymentRow | undefined): ServingOptions {
  return row?.options
    ? { ...defaultOptions, ...(JSON.parse(row.options) as Partial<ServingOptions>) }
    : defaultOptions;
}

export function toDeployment(row: DeploymentRow): Deployment {
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
    target: row.target ?? row.model,
    traffic: trafficOf(row),
    options: optionsOf(row),
    restarts: row.restarts,
  };
}
