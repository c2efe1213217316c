// One daemon per workspace: a second `lathe daemon` refuses and leaves the first one reachable;
// a claim left by a killed daemon is taken over. Runs the built CLI (npm run build first).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { DaemonInfo } from "../../schemas/api";
import { cliPath, removeDir, runCli, tempDir } from "../helpers";

async function startCliDaemon(root: string): Promise<{ child: ChildProcess; info: DaemonInfo }> {
  const child = spawn(process.execPath, [cliPath, "daemon", "--root", root], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const file = join(root, ".lathe", "daemon.json");
  for (let i = 0; i < 300; i++) {
    if (existsSync(file)) {
      const info = JSON.parse(readFileSync(file, "utf8")) as DaemonInfo;
      if (info.pid === child.pid) {
        return { child, info };
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error("the daemon did not write daemon.json");
}

function exited(child: ChildProcess): Promise<number | string | null> {
  return new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal)));
}

void test("a second daemon for a workspace refuses, naming the first, and leaves it reachable", async () => {
  const root = await tempDir();
  await runCli(["init", "--root", root], { cwd: root });
  const first = await startCliDaemon(root);
  try {
    const second = await runCli(["daemon", "--root", root], { cwd: root, timeoutMs: 20_000 });

    assert.equal(second.code, 2, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `A Lathe daemon already runs for .* \\(pid ${first.info.pid} on 127\\.0\\.0\\.1:${first.info.port}\\)`,
      ),
    );
    const info = JSON.parse(
      readFileSync(join(root, ".lathe", "daemon.json"), "utf8"),
    ) as DaemonInfo;
    assert.equal(info.pid, first.info.pid, "daemon.json still names the first daemon");
    const status = await runCli(["daemon", "status", "--json", "--root", root], { cwd: root });
    assert.equal((JSON.parse(status.stdout) as { pid: number }).pid, first.info.pid);
  } finally {
    const done = exited(first.child);
    first.child.kill("SIGTERM");
    assert.equal(await done, 0);
  }
  assert.equal(existsSync(join(root, ".lathe", "daemon.lock")), false, "the claim is released");
  await removeDir(root);
});

void test("the claim of a killed daemon is stale: the next daemon takes the workspace over", async () => {
  const root = await tempDir();
  await runCli(["init", "--root", root], { cwd: root });
  const killed = await startCliDaemon(root);
  const gone = exited(killed.child);
  killed.child.kill("SIGKILL");
  await gone;
  assert.ok(existsSync(join(root, ".lathe", "daemon.lock")), "SIGKILL leaves the claim behind");

  const next = await startCliDaemon(root);
  const done = exited(next.child);
  next.child.kill("SIGTERM");
  assert.equal(await done, 0);
  await removeDir(root);
});

void test("a daemon that cannot listen says why, exits 2 and leaves no claim", async () => {
  const root = await tempDir();
  await runCli(["init", "--root", root], { cwd: root });
  const other = await tempDir();
  await runCli(["init", "--root", other], { cwd: other });
  const first = await startCliDaemon(other);
  try {
    const clash = await runCli(["daemon", "--port", String(first.info.port), "--root", root], {
      cwd: root,
      timeoutMs: 20_000,
    });

    assert.equal(clash.code, 2, clash.stderr);
    assert.match(
      clash.stderr,
      new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${first.info.port}: the port is in use`),
    );
    assert.equal(existsSync(join(root, ".lathe", "daemon.lock")), false);
  } finally {
    first.child.kill("SIGTERM");
    await exited(first.child);
  }
  await removeDir(root);
  await removeDir(other);
});
