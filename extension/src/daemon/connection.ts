/**
 * The extension's one connection to its workspace's daemon: finds or starts it (under the user's
 * node), checks the API version, follows the event stream and reconnects with backoff when the
 * stream drops. Views and commands call the daemon through `call` and listen to `onEvent`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { API_VERSION, type DaemonEvent, type DaemonInfo } from "../../../schemas/api";
import { findDaemon, startDaemonProcess, type DaemonHandle } from "../../../daemon/src/client";
import { LatheError } from "../../../daemon/src/errors";
import { messageOf } from "../vscode/errors";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import { openEventStream } from "./eventStream";
import { abiMismatch, BUILT_FOR } from "./nodeAbi";
import { resolveNodeBinary } from "./nodeBinary";

export type DaemonState =
  { kind: "starting" } | { kind: "up"; info: DaemonInfo } | { kind: "down"; reason: string };

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const START_TIMEOUT_MS = 30_000;

export class DaemonConnection implements vscode.Disposable {
  private handle: DaemonHandle | undefined;
  private current: DaemonState = { kind: "starting" };
  private connecting: Promise<boolean> | undefined;
  private closeStream: (() => void) | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private disposed = false;
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  private readonly eventEmitter = new vscode.EventEmitter<DaemonEvent>();

  /** Fires on every state change, including each successful (re)connection. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires for every event the daemon streams. */
  readonly onEvent = this.eventEmitter.event;

  constructor(
    readonly root: string,
    private readonly cliScript: string,
  ) {}

  get state(): DaemonState {
    return this.current;
  }

  /** Finds or starts the daemon; on failure shows a toast with "Open Log" and "Retry". */
  async connect(): Promise<boolean> {
    const ok = await this.connectOnce();
    if (!ok && this.current.kind === "down") {
      void this.offerRetry(this.current.reason);
    }
    return ok;
  }

  /**
   * Calls the daemon's HTTP API. A call made while the daemon is starting (a command run right
   * after the window opens) waits for that start; a LatheError says when it is not running.
   */
  async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    if (this.current.kind === "starting") {
      await this.connectOnce();
    }
    if (!this.handle || this.current.kind !== "up") {
      throw new LatheError(
        "LATHE_UNAVAILABLE",
        "Lathe's local service is not running; see the Lathe log.",
      );
    }
    const started = Date.now();
    try {
      const result = await this.handle.call<T>(method, path, body, timeoutMs);
      log.debug(`${method} ${path} ${Date.now() - started}ms`);
      return result;
    } catch (err) {
      log.debug(`${method} ${path} failed after ${Date.now() - started}ms: ${messageOf(err)}`);
      throw err;
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.reconnectTimer);
    this.closeStream?.();
    this.stateEmitter.dispose();
    this.eventEmitter.dispose();
  }

  private connectOnce(): Promise<boolean> {
    this.connecting ??= this.findOrStart().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async findOrStart(): Promise<boolean> {
    clearTimeout(this.reconnectTimer);
    this.closeStream?.();
    this.setState({ kind: "starting" });
    try {
      const handle = (await findDaemon(this.root)) ?? (await this.start());
      checkApiVersion(handle.info);
      this.handle = handle;
      log.info(
        `Connected to the daemon: pid=${handle.info.pid} port=${handle.info.port} version=${handle.info.version} api=${handle.info.apiVersion}`,
      );
      this.reconnectAttempt = 0;
      this.follow(handle.info);
      this.setState({ kind: "up", info: handle.info });
      return true;
    } catch (err) {
      this.handle = undefined;
      log.error("The daemon could not be started or reached:", err);
      this.logDaemonLogTail();
      this.setState({ kind: "down", reason: messageOf(err) });
      return false;
    }
  }

  private async start(): Promise<DaemonHandle> {
    const { nodePath } = readSettings();
    const node = await resolveNodeBinary(nodePath);
    const mismatch = abiMismatch(node, BUILT_FOR);
    if (mismatch) {
      log.error(mismatch);
      throw new Error(mismatch);
    }
    const command = `${node.path} ${this.cliScript} daemon --root ${this.root}`;
    log.info(
      `Starting the daemon: \`${command}\` (node ${node.version ?? "version unknown"}) cwd=${this.root}`,
    );
    const started = Date.now();
    try {
      const handle = await startDaemonProcess(this.root, {
        nodePath: node.path,
        cliScript: this.cliScript,
        timeoutMs: START_TIMEOUT_MS,
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      log.info(
        `Daemon started: pid=${handle.info.pid} port=${handle.info.port} ${seconds}s \`${command}\``,
      );
      return handle;
    } catch (err) {
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      log.error(`Daemon start failed after ${seconds}s: \`${command}\``);
      throw err;
    }
  }

  /** Follows the event stream; when it drops, marks the daemon down and reconnects with backoff. */
  private follow(info: DaemonInfo): void {
    this.closeStream = openEventStream(info, {
      onOpen: () => log.debug("Event stream open."),
      onEvent: (event) => {
        log.trace("event", event);
        this.eventEmitter.fire(event);
      },
      onClose: (err) => {
        this.closeStream = undefined;
        if (this.disposed) {
          return;
        }
        log.warn(`Lost the daemon's event stream${err ? `: ${err.message}` : ""}; reconnecting.`);
        this.handle = undefined;
        this.setState({ kind: "down", reason: "the event stream closed" });
        this.scheduleReconnect();
      },
    });
  }

  private scheduleReconnect(): void {
    const delay = BACKOFF_MS[this.reconnectAttempt];
    if (delay === undefined) {
      const reason = this.current.kind === "down" ? this.current.reason : "it stopped answering";
      log.error(`Gave up reconnecting to the daemon after ${BACKOFF_MS.length} attempts.`);
      void this.offerRetry(reason);
      return;
    }
    this.reconnectAttempt += 1;
    this.reconnectTimer = setTimeout(() => {
      void this.connectOnce().then((ok) => {
        if (!ok && !this.disposed) {
          this.scheduleReconnect();
        }
      });
    }, delay);
  }

  private async offerRetry(reason: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      `Lathe could not start its local service: ${reason}`,
      "Open Log",
      "Retry",
    );
    if (choice === "Open Log") {
      log.show();
    } else if (choice === "Retry") {
      this.reconnectAttempt = 0;
      await this.connect();
    }
  }

  /** The daemon writes its own log; its last lines usually say why it did not start. */
  private logDaemonLogTail(): void {
    const file = join(this.root, ".lathe", "logs", "daemon.log");
    if (!existsSync(file)) {
      return;
    }
    const lines = readFileSync(file, "utf8").trimEnd().split("\n").slice(-20);
    const redacted = lines.map((line) =>
      line.replace(/("?token"?\s*[:=]\s*"?)[^",\s}]+/gi, "$1<redacted>"),
    );
    log.error(`Last lines of ${file}:\n${redacted.join("\n")}`);
  }

  private setState(state: DaemonState): void {
    this.current = state;
    void vscode.commands.executeCommand("setContext", "lathe.daemon", state.kind);
    this.stateEmitter.fire(state);
  }
}

function checkApiVersion(info: DaemonInfo): void {
  const major = (v: string) => v.split(".")[0];
  if (major(info.apiVersion) !== major(API_VERSION)) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `the running service (pid ${info.pid}) speaks API ${info.apiVersion}, this extension needs ${API_VERSION}; stop it with 'kill ${info.pid}' and retry`,
      { pid: info.pid, apiVersion: info.apiVersion },
    );
  }
}
