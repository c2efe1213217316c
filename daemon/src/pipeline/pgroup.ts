/**
 * Process groups of stage commands: each stage's `sh -c` leads its own group, so signals go to
 * `-pgid` and reach what the command started too. Linux's /proc tells apart a zombie (dead, not
 * yet reaped) from a live member, and a group leader from a later process that got its pid.
 */
import { readFileSync, readdirSync } from "node:fs";

/** Sends `signal` to the process group `pgid`; a group that is gone already is fine. */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) {
    return;
  }
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    // ESRCH: the group has already exited, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") {
      throw err;
    }
  }
}

/** Whether a process of group `pgid` still runs; zombies do not count. */
export function groupAlive(pgid: number | undefined): boolean {
  if (pgid === undefined) {
    return false;
  }
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // A member killed after its shell is reparented to PID 1, which in some containers reaps it
  // only every second or so: until then the group exists, but nothing in it runs.
  return process.platform !== "linux" || groupMembers(pgid).some((m) => m.isLive);
}

/**
 * When the process `pid` started (clock ticks since boot, from /proc), or null when it is gone
 * or the platform has no /proc. With the pid it names one process: pids are reused, this is not.
 */
export function processStart(pid: number): string | null {
  return statOf(String(pid))?.start ?? null;
}

/**
 * Whether the group that `pgid` led, started at `start`, still has a live member: its leader
 * (the same process, not a later one with the same pid) or members it left behind. Linux does
 * not hand out a pid while a group of that id exists, so members without a leader are its own.
 */
export function isSameGroupAlive(pgid: number, start: string): boolean {
  const leader = statOf(String(pgid));
  if (leader && leader.start !== start) {
    return false;
  }
  return groupAlive(pgid);
}

/** SIGTERM to the group, then SIGKILL after `graceMs` if a member still runs. */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (groupAlive(pgid)) {
    killGroup(pgid, "SIGKILL");
  }
}

interface ProcStat {
  pgrp: number;
  isLive: boolean;
  start: string;
}

function groupMembers(pgid: number): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [{ pgrp: pgid, isLive: true, start: "" }]; // Cannot tell: assume it runs.
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(statOf)
    .filter((s): s is ProcStat => s !== null && s.pgrp === pgid);
}

function statOf(pid: string): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null; // Gone (or exited while we looked), or no /proc.
  }
  // After the command name in parentheses come fields 3 on: state, ppid, pgrp, … starttime (22).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  return {
    pgrp: Number(fields[2]),
    isLive: state !== "Z" && state !== "X",
    start: fields[19] ?? "",
  };
}
