/**
 * A CLI command that runs in its own process (a `lathe repro` in a terminal) writes its runs to
 * the workspace's database, but its events reach only its own bus. When a daemon is running, this
 * forwards them to it (POST /api/v1/events), and the daemon re-emits them on its stream, so the
 * editor's Runs view and charts follow the terminal's repro live.
 *
 * Best effort, and never in the command's way: events are coalesced (one runs/changed per run,
 * the latest progress per stage) and sent at most one batch at a time after a short delay; each
 * request has a short timeout, and once the daemon fails to take a batch forwarding stops.
 */
import type { ReportedEvent } from "../../../schemas/api";
import type { DaemonHandle } from "../client";
import type { Context } from "../context";
import { LatheError } from "../errors";

export interface ForwardOptions {
  /** How long events gather before a batch is sent. */
  delayMs?: number;
  /** How long one batch may take before it is dropped. */
  timeoutMs?: number;
}

export interface EventForwarder {
  /** Stops listening and sends what is still pending (within the timeout); never throws. */
  close(): Promise<void>;
}

/** The server's limit per request (reportEventsRequestSchema). */
const MAX_BATCH = 1000;

export function forwardEvents(
  ctx: Context,
  daemon: DaemonHandle,
  options: ForwardOptions = {},
): EventForwarder {
  const delayMs = options.delayMs ?? 100;
  const timeoutMs = options.timeoutMs ?? 1000;
  // Keyed so that a burst collapses: a run's many live-metric polls become one runs/changed.
  const pending = new Map<string, ReportedEvent>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  /** Set by close(), which sends what is left itself. */
  let closing = false;

  const schedule = () => {
    if (timer || inFlight || stopped || closing || pending.size === 0) {
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      inFlight = send().finally(() => {
        inFlight = undefined;
        schedule();
      });
    }, delayMs);
    // The command's own work decides when the process ends; close() sends the rest.
    timer.unref();
  };

  const send = async () => {
    const events = [...pending.entries()].slice(0, MAX_BATCH);
    events.forEach(([key]) => pending.delete(key));
    try {
      await daemon.call("POST", "/api/v1/events", { events: events.map(([, e]) => e) }, timeoutMs);
    } catch (err) {
      // A run the daemon cannot find (deleted meanwhile) costs only that batch; anything else
      // (the daemon went away, hangs, or predates this route) ends forwarding for this command.
      const lostRun =
        err instanceof LatheError && err.code === "LATHE_NOT_FOUND" && "runId" in err.data;
      if (!lostRun) {
        stopped = true;
        pending.clear();
        ctx.log.debug({ err: (err as Error).message }, "events no longer forwarded to the daemon");
      }
    }
  };

  const off = ctx.events.on((event) => {
    if (stopped) {
      return;
    }
    if (event.type === "runs/changed") {
      pending.set(`run:${event.runId}`, event);
    } else if (event.type === "repro/progress") {
      // Deleted first so the latest status moves to the end: progress keeps its order.
      pending.delete(`stage:${event.stage}`);
      pending.set(`stage:${event.stage}`, event);
    } else {
      return;
    }
    schedule();
  });

  return {
    async close() {
      closing = true;
      off();
      clearTimeout(timer);
      timer = undefined;
      await inFlight;
      while (!stopped && pending.size > 0) {
        await send();
      }
      stopped = true;
    },
  };
}
