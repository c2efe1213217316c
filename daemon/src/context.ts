/**
 * What every service gets: the workspace, its database, a logger and the event bus that feeds
 * the daemon's event stream. The CLI builds one in process; the daemon builds one at start.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventEmitter } from "node:events";
import type { DaemonEvent } from "../../schemas/api";
import { openDb, type Db } from "./store/db";
import { createLogger, silentLogger, type Logger } from "./log";
import { workspaceAt, type Workspace } from "./workspace";

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit(event: DaemonEvent): void {
    this.emitter.emit("event", event);
  }

  on(listener: (event: DaemonEvent) => void): () => void {
    this.emitter.on("event", listener);
    return () => this.emitter.off("event", listener);
  }
}

export interface Context {
  ws: Workspace;
  db: Db;
  log: Logger;
  events: EventBus;
  /**
   * Where this daemon listens and its token, set by daemon.ts once the server is up; undefined
   * in the CLI. Services hand it to child processes (stage commands get LATHE_API etc.).
   */
  daemon?: { url: string; token: string };
}

export function openContext(
  root: string,
  options: { log?: Logger; quiet?: boolean } = {},
): Context {
  const ws = workspaceAt(root);
  const log = options.log ?? (options.quiet ? silentLogger() : createLogger());
  const db = openDb(ws.dbPath);
  keepOutOfGit(ws.stateDir);
  return { ws, db, log, events: new EventBus() };
}

export function closeContext(ctx: Context): void {
  ctx.db.close();
}

/**
 * `.lathe/` is local state (the database, the content store, the daemon's token): a `.gitignore`
 * inside it keeps all of it out of git even where `lathe init` never added the root line.
 */
function keepOutOfGit(stateDir: string): void {
  const file = join(stateDir, ".gitignore");
  if (!existsSync(file)) {
    writeFileSync(
      file,
      "# Lathe's local state (database, content store, token): never committed.\n*\n",
    );
  }
}
