/**
 * Restarting crashed serving workers with exponential backoff: the first restart after
 * `firstDelayMs`, doubling up to MAX_DELAY_MS; a worker that stayed up STABLE_MS starts the count
 * again; after MAX_RESTARTS crashes in a row the deployment stays failed and says so.
 */
import type { Context } from "../context";
import { readRow, writeState } from "./rows";

const MAX_DELAY_MS = 10_000;
const STABLE_MS = 30_000;
const MAX_RESTARTS = 8;

export class Restarter {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly ctx: Context,
    private readonly firstDelayMs: number,
    private readonly restart: (name: string, port: number) => Promise<void>,
  ) {}

  /** A worker for `name` died (or failed to come back) after `uptimeMs`: schedule the next try. */
  crashed(name: string, port: number, uptimeMs = 0): void {
    const previous = uptimeMs >= STABLE_MS ? 0 : (this.attempts.get(name) ?? 0);
    if (previous >= MAX_RESTARTS) {
      this.attempts.delete(name);
      const row = readRow(this.ctx, name);
      const error = `${row?.error ?? "The serving worker keeps crashing"} Lathe gave up after ${MAX_RESTARTS} restarts; see .lathe/logs/serving-${name}.log and deploy again.`;
      writeState(this.ctx, name, "failed", { port: null, pid: null, error });
      this.ctx.log.error({ name, restarts: MAX_RESTARTS }, "gave up restarting the deployment");
      return;
    }
    this.attempts.set(name, previous + 1);
    const delay = Math.min(this.firstDelayMs * 2 ** previous, MAX_DELAY_MS);
    this.ctx.log.info({ name, attempt: previous + 1, delayMs: delay }, "restarting the deployment");
    this.cancel(name);
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        this.restart(name, port).catch((err: unknown) =>
          this.ctx.log.error({ name, err }, "restarting the deployment failed"),
        );
      }, delay),
    );
  }

  /** Forgets `name`'s pending restart and its count: it was undeployed or deployed again. */
  forget(name: string): void {
    this.cancel(name);
    this.attempts.delete(name);
  }

  private cancel(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  cancelAll(): void {
    [...this.timers.keys()].forEach((name) => this.forget(name));
  }
}
