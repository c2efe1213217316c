/**
 * One repro at a time per workspace, whether it runs in the daemon or in a CLI process:
 * `.lathe/repro.pid` is created exclusively and names its owner; a file left by a dead process
 * is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LatheError } from "../errors";
import type { Workspace } from "../workspace";

const active = new Set<string>();

/** Takes the workspace's repro lock; returns its release. LATHE_CONFLICT when it is held. */
export function acquireReproLock(ws: Workspace): () => void {
  const file = join(ws.stateDir, "repro.pid");
  mkdirSync(ws.stateDir, { recursive: true });
  if (active.has(ws.root)) {
    throw busy(process.pid);
  }
  if (!tryCreate(file)) {
    const owner = Number(readOwner(file));
    if (owner !== process.pid && isAlive(owner)) {
      throw busy(owner);
    }
    // Left behind by a process that died mid-repro (or by this one before a crash): take it.
    rmSync(file, { force: true });
    if (!tryCreate(file)) {
      throw busy(Number(readOwner(file)));
    }
  }
  active.add(ws.root);
  return () => {
    active.delete(ws.root);
    rmSync(file, { force: true });
  };
}

function tryCreate(file: string): boolean {
  try {
    writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      return false;
    }
    throw err;
  }
}

function readOwner(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    // Removed between our create attempt and this read: treat as unowned.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return "0";
    }
    throw err;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function busy(pid: number): LatheError {
  return new LatheError(
    "LATHE_CONFLICT",
    `A repro is already running in this workspace (pid ${pid}); wait for it to finish.`,
    { pid },
  );
}
