/**
 * Runs one stage command: `sh -c <cmd>` in its own process group (so cancelling kills the whole
 * group, not just the shell), with stdout and stderr captured into one log.
 */
import { spawn } from "node:child_process";
import { groupAlive, killGroup } from "./pgroup";

/**
 * The stored log keeps the last 1 MiB of a stage's output: runs that print per-step progress
 * would otherwise grow the database without bound, and the end is what explains a failure.
 */
export const MAX_LOG_BYTES = 1024 * 1024;
const STDERR_TAIL_BYTES = 16 * 1024;
/** How long a cancelled stage's process group has between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5000;
const GROUP_POLL_MS = 50;

export interface ExecOptions {
  cmd: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborting sends SIGTERM to the process group, then SIGKILL after a grace period. */
  signal?: AbortSignal;
  /** Aborting sends SIGKILL to the process group at once (a second Ctrl-C). */
  forceSignal?: AbortSignal;
  /** Called with the shell's pid, which is also its process group id, once it has started. */
  onSpawn?: (pid: number) => void;
  /** Each chunk of output as it arrives (the CLI may echo it). */
  onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

export interface ExecResult {
  /** null when the process did not start or was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they arrived, capped to MAX_LOG_BYTES. */
  log: string;
  stderrTail: string;
  /** Set when the command could not be started at all. */
  spawnError: string | null;
  cancelled: boolean;
}

/** Keeps only the last `cap` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly cap: number) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.cap;
      this.dropped = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  text(note = true): string {
    const body = Buffer.concat(this.chunks).toString("utf8");
    if (!this.dropped || !note) {
      return body;
    }
    return `[earlier output dropped: only the last ${this.cap} bytes are kept]\n${body}`;
  }
}

export function runCommand(options: ExecOptions): Promise<ExecResult> {
  const log = new TailBuffer(MAX_LOG_BYTES);
  const stderr = new TailBuffer(STDERR_TAIL_BYTES);
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", options.cmd], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let spawnError: string | null = null;
    const stop = stopper(child.pid);
    const kill = () => stop.term();
    const forceKill = () => stop.kill();
    options.signal?.addEventListener("abort", kill, { once: true });
    options.forceSignal?.addEventListener("abort", forceKill, { once: true });
    if (child.pid !== undefined) {
      options.onSpawn?.(child.pid);
    }

    child.stdout.on("data", (c: Buffer) => {
      log.write(c);
      options.onOutput?.(c.toString("utf8"), "stdout");
    });
    child.stderr.on("data", (c: Buffer) => {
      log.write(c);
      stderr.write(c);
      options.onOutput?.(c.toString("utf8"), "stderr");
    });
    child.on("error", (err) => (spawnError = err.message));
    child.on("close", (exitCode, signal) => {
      // The shell is gone, but a member of its group that ignores SIGTERM (and does not hold our
      // pipes) may still run: a cancelled command is done only once its group is.
      void stop.settled().then(() => {
        options.signal?.removeEventListener("abort", kill);
        options.forceSignal?.removeEventListener("abort", forceKill);
        resolve({
          exitCode: spawnError ? null : exitCode,
          signal,
          log: log.text(),
          stderrTail: stderr.text(false),
          spawnError,
          cancelled: stop.cancelled,
        });
      });
    });
    if (options.forceSignal?.aborted) {
      forceKill();
    } else if (options.signal?.aborted) {
      kill();
    }
  });
}

/**
 * Stops a process group: `term()` sends SIGTERM and SIGKILL after KILL_GRACE_MS, `kill()` sends
 * SIGKILL now. `settled()` resolves at once when nothing was sent or the group is gone, else once
 * SIGKILL has been sent.
 */
function stopper(pid: number | undefined) {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  let killed: () => void = () => {};
  const wasKilled = new Promise<void>((r) => (killed = r));
  const kill = () => {
    cancelled = true;
    clearTimeout(timer);
    killGroup(pid, "SIGKILL");
    killed();
  };
  return {
    get cancelled() {
      return cancelled;
    },
    term() {
      if (cancelled) {
        return;
      }
      cancelled = true;
      killGroup(pid, "SIGTERM");
      timer = setTimeout(kill, KILL_GRACE_MS);
    },
    kill,
    async settled() {
      // Members killed with the shell may stay in the group for a moment, until reaped.
      while (cancelled && groupAlive(pid)) {
        const isKilled = await Promise.race([wasKilled.then(() => true), sleep(GROUP_POLL_MS)]);
        if (isKilled) {
          break;
        }
      }
      clearTimeout(timer);
    },
  };
}

function sleep(ms: number): Promise<false> {
  return new Promise((r) => setTimeout(() => r(false), ms));
}

/** A line that states an error, as Node, Python and most tools print one. */
const ERROR_HEADLINE = /^\s*(\w+(Error|Exception)\b|error\b|fatal\b|Error:)/i;

/**
 * The last `n` non-empty lines of a text. When the last line that states an error lies before
 * them (Node prints a long require stack after `Error: Cannot find module …`), it leads, so the
 * cause is never cut off.
 */
export function lastLines(text: string, n: number): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const tail = lines.slice(-n);
  const headline = lines.findLastIndex((l) => ERROR_HEADLINE.test(l));
  if (headline >= 0 && headline < lines.length - n) {
    return [lines[headline]!, "…", ...tail.slice(2)].join("\n");
  }
  return tail.join("\n");
}
