/**
 * One daemon per workspace. A starting daemon claims `.lathe/daemon.lock` (created exclusively,
 * holding its pid) before it listens; a second one finds the claim of a live daemon and refuses,
 * naming it, instead of replacing its daemon.json. A claim whose process is gone (a crash, a
 * SIGKILL) is stale and taken over.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DaemonInfo } from "../../schemas/api";
import { LatheError } from "./errors";
import type { Workspace } from "./workspace";

/** Claims the workspace for this process; returns the release function. */
export function claimWorkspace(ws: Workspace): () => void {
  const lock = join(ws.stateDir, "daemon.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => releaseIfOurs(lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw err;
      }
    }
    const holder = Number.parseInt(readText(lock) ?? "", 10);
    if (Number.isInteger(holder) && holder !== process.pid && isDaemonProcess(holder)) {
      const port = readInfo(ws)?.port;
      const where = port ? ` on 127.0.0.1:${port}` : "";
      throw new LatheError(
        "LATHE_CONFLICT",
        `A Lathe daemon already runs for ${ws.root} (pid ${holder}${where}). Use it, or stop it first with 'lathe daemon stop'.`,
        { pid: holder, port: port ?? null, root: ws.root },
      );
    }
    rmSync(lock, { force: true }); // Stale: its daemon died without releasing it.
  }
  throw new LatheError(
    "LATHE_CONFLICT",
    `Could not claim ${lock}: other daemons keep starting for ${ws.root}. Try again.`,
    { lock },
  );
}

function releaseIfOurs(lock: string): void {
  if (Number.parseInt(readText(lock) ?? "", 10) === process.pid) {
    rmSync(lock, { force: true });
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // Removed between our attempt and the read: try again.
  }
}

function readInfo(ws: Workspace): DaemonInfo | undefined {
  const text = readText(ws.daemonFile);
  try {
    return text ? (JSON.parse(text) as DaemonInfo) : undefined;
  } catch {
    return undefined; // Half-written: the port is only a hint in the message.
  }
}

/**
 * Whether `pid` is alive and, where /proc tells, still a Lathe daemon: after a crash the pid
 * may have been given to an unrelated process, which must not keep the workspace claimed.
 */
function isDaemonProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") {
      return false;
    }
  }
  const cmdline = readText(`/proc/${pid}/cmdline`);
  return cmdline === undefined || cmdline.split("\0").includes("daemon");
}
