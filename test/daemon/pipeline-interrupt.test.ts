/**
 * Interrupting a terminal's `lathe repro`: stage commands run in their own process groups, so
 * the CLI must stop them itself on SIGINT, SIGTERM or SIGHUP (SIGTERM, then SIGKILL after the
 * grace period), mark the runs KILLED, keep the lock entries of finished stages, release the repro
 * lock and exit 128 + the signal's number. A repro that died without cleaning up (SIGKILL) leaves
 * its groups running; the next repro stops them.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { RunSummary } from "../../schemas/api";
import { readLock } from "../../daemon/src/pipeline/lock";
import { cliPath, removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";
import { subscribe, trackingDaemon } from "./tracking-helpers";

/** `first` finishes, then `slow` writes its shell's and its sleep's pids and runs `body`. */
function pipeline(body: string): string {
  return `stages:
  first:
    cmd: echo one > first.txt
    outs: [first.txt]
  slow:
    cmd: ${JSON.stringify(`${body} & echo $! > sleep.pid; echo $$ > shell.pid; wait`)}
    deps: [first.txt]
    outs: [slow.txt]
`;
}

/** The same pipeline with a slow stage that finishes at once. */
const quick = `stages:
  first:
    cmd: echo one > first.txt
    outs: [first.txt]
  slow:
    cmd: echo done > slow.txt
    deps: [first.txt]
    outs: [slow.txt]
`;

interface Cli {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startRepro(root: string): Cli {
  const child = spawn(process.execPath, [cliPath, "repro"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => r({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

async function waitFor(what: string, found: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!found()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The pids the slow stage wrote, once both files are complete. */
async function stagePids(root: string): Promise<number[]> {
  const read = (f: string) =>
    existsSync(join(root, f)) ? Number(readFileSync(join(root, f), "utf8")) : 0;
  await waitFor("the stage's pids", () => read("shell.pid") > 0 && read("sleep.pid") > 0);
  return [read("shell.pid"), read("sleep.pid")];
}

/**
 * True once the process is gone (ESRCH). A killed process reparented to PID 1 stays a zombie
 * until PID 1 reaps it, which some containers' init does only now and then; a zombie runs
 * nothing, so it counts as gone.
 */
async function isGone(pid: number, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/\) [ZX] /.test(stat)) {
        return true;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") {
        return true;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function runs(root: string): Promise<RunSummary[]> {
  const listed = await runCli(["--json", "runs", "list"], { cwd: root });
  assert.equal(listed.code, 0, listed.stderr);
  return JSON.parse(listed.stdout) as RunSummary[];
}

/** Interrupts a repro whose slow stage runs `body` with `signal`; checks what must hold after. */
async function interrupt(signal: NodeJS.Signals, body: string, expectedCode: number) {
  const root = await tempDir("lathe-interrupt-");
  try {
    writeFiles(root, { "lathe.yaml": pipeline(body) });
    const cli = startRepro(root);
    const pids = await stagePids(root);
    cli.child.kill(signal);
    const { code } = await cli.exited;

    assert.equal(code, expectedCode, cli.stderr());
    assert.match(cli.stderr(), /interrupted: stopped stage slow\n/);
    for (const pid of pids) {
      assert.ok(await isGone(pid), `the stage's process ${pid} still runs`);
    }
    const byName = new Map((await runs(root)).map((r) => [r.stage ?? r.name, r]));
    assert.equal(byName.get("slow")?.status, "KILLED");
    assert.equal(byName.get("repro")?.status, "KILLED");
    assert.equal(byName.get("first")?.status, "FINISHED");
    assert.deepEqual(Object.keys(readLock(root).stages), ["first"], "first's lock entry is kept");
    assert.equal(
      existsSync(join(root, ".lathe", "repro.pid")),
      false,
      "the repro lock is released",
    );

    // The next repro runs normally: first is up to date (its lock entry), slow runs.
    writeFiles(root, { "lathe.yaml": quick });
    const again = await runCli(["repro"], { cwd: root });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /skipped\s+first/);
    assert.match(again.stdout, /ran\s+slow/);
    return cli.stderr();
  } finally {
    await removeDir(root);
  }
}

test("SIGINT stops the running stage's process group, marks the runs KILLED, exits 130", async () => {
  await interrupt("SIGINT", "sleep 1000", 130);
});

test("SIGTERM does the same and exits 143", async () => {
  await interrupt("SIGTERM", "sleep 1000", 143);
});

test("SIGHUP (the terminal closed) does the same and exits 129", async () => {
  await interrupt("SIGHUP", "sleep 1000", 129);
});

test("a stage that ignores SIGTERM is killed with SIGKILL after the grace period", async () => {
  // An ignored signal stays ignored across exec, so the sleep ignores SIGTERM too.
  await interrupt("SIGINT", "trap '' TERM; sleep 1000", 130);
});

test("a second interrupt kills a stage that ignores SIGTERM at once", async () => {
  const root = await tempDir("lathe-interrupt-twice-");
  try {
    writeFiles(root, { "lathe.yaml": pipeline("trap '' TERM; sleep 1000") });
    const cli = startRepro(root);
    const pids = await stagePids(root);
    cli.child.kill("SIGINT");
    await waitFor("the first interrupt's notice", () => /interrupt again/.test(cli.stderr()));
    cli.child.kill("SIGINT");
    const { code } = await cli.exited;

    assert.equal(code, 130, cli.stderr());
    assert.match(cli.stderr(), /killing the running stages now/);
    for (const pid of pids) {
      assert.ok(await isGone(pid), `the stage's process ${pid} still runs`);
    }
    assert.equal((await runs(root)).find((r) => r.stage === "slow")?.status, "KILLED");
  } finally {
    await removeDir(root);
  }
});

test("the next repro stops the stage a SIGKILLed repro left running, and fails its runs", async () => {
  const root = await tempDir("lathe-interrupt-kill9-");
  try {
    writeFiles(root, { "lathe.yaml": pipeline("sleep 1000") });
    const cli = startRepro(root);
    const pids = await stagePids(root);
    cli.child.kill("SIGKILL");
    await cli.exited;
    assert.equal(await isGone(pids[1]!, 500), false, "SIGKILL of the CLI leaves the stage running");

    writeFiles(root, { "lathe.yaml": quick });
    const again = await runCli(["repro"], { cwd: root });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /ran\s+slow/);
    for (const pid of pids) {
      assert.ok(await isGone(pid), `the left-over stage process ${pid} still runs`);
    }
    const left = (await runs(root)).filter((r) => r.status === "FAILED");
    assert.deepEqual(left.map((r) => r.stage ?? r.name).sort(), ["repro", "slow"]);
    const shown = await runCli(["--json", "runs", "show", left.find((r) => r.stage)!.id], {
      cwd: root,
    });
    assert.match(shown.stdout, /process group was still running and has been stopped/);
  } finally {
    await removeDir(root);
  }
});

test("a running daemon hears of the KILLED runs before the CLI exits", async () => {
  const t = await trackingDaemon("lathe-interrupt-daemon-");
  const stream = await subscribe(t);
  try {
    writeFiles(t.root, { "lathe.yaml": pipeline("sleep 1000") });
    const cli = startRepro(t.root);
    await stagePids(t.root);
    await stream.until("slow's running progress", (events) =>
      events.some((e) => e.type === "repro/progress" && e.stage === "slow"),
    );
    const heardBefore = stream.events.length;
    cli.child.kill("SIGINT");
    assert.equal((await cli.exited).code, 130, cli.stderr());

    const killed = (await runs(t.root)).filter((r) => r.status === "KILLED");
    assert.equal(killed.length, 2);
    await stream.until("runs/changed for both KILLED runs", (events) => {
      const later = events.slice(heardBefore);
      return killed.every((r) => later.some((e) => e.type === "runs/changed" && e.runId === r.id));
    });
    assert.ok(
      stream.events
        .slice(heardBefore)
        .some((e) => e.type === "repro/progress" && e.stage === "slow" && e.status === "failed"),
    );
  } finally {
    stream.close();
    await t.close();
  }
});
