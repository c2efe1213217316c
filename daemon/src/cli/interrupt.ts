/**
 * SIGINT, SIGTERM and SIGHUP while a CLI command runs child processes (`lathe repro`). Stage
 * commands run in their own process groups, so a terminal's Ctrl-C never reaches them, and
 * Node's default handling would exit at once and leave them running. Instead the first signal
 * aborts `signal` (the command stops its children: SIGTERM, then SIGKILL after a grace period),
 * a second aborts `force` (SIGKILL now), and a third exits at once.
 */
import { constants } from "node:os";

export interface Interrupt {
  /** Aborted on the first signal. */
  signal: AbortSignal;
  /** Aborted on the second signal. */
  force: AbortSignal;
  /** The first signal received, if any. */
  received(): NodeJS.Signals | undefined;
  /** The shell's convention for a process ended by a signal: 128 + its number (SIGINT 130). */
  exitCode(): number | undefined;
  /** Restores Node's default handling. */
  dispose(): void;
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Handles the signals until `dispose()`; `notify` is told of the first and second one. */
export function onInterrupt(notify: (signal: NodeJS.Signals, forced: boolean) => void): Interrupt {
  const first = new AbortController();
  const second = new AbortController();
  let received: NodeJS.Signals | undefined;
  let count = 0;

  const handle = (signal: NodeJS.Signals) => {
    count++;
    if (signal === "SIGHUP") {
      // The terminal is gone: writing to it fails with EIO, which must not crash the cleanup.
      process.stdout.on("error", () => {});
      process.stderr.on("error", () => {});
    }
    if (count === 1) {
      received = signal;
      notify(signal, false);
      first.abort();
    } else if (count === 2) {
      notify(signal, true);
      second.abort();
    } else {
      process.exit(exitCodeOf(received ?? signal));
    }
  };
  SIGNALS.forEach((s) => process.on(s, handle));

  return {
    signal: first.signal,
    force: second.signal,
    received: () => received,
    exitCode: () => (received ? exitCodeOf(received) : undefined),
    dispose: () => SIGNALS.forEach((s) => process.off(s, handle)),
  };
}

function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
