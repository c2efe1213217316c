/** Shared test helpers: temporary workspaces, a daemon on port 0, the built CLI as a child process. */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type DaemonHandle } from "../daemon/src/client";
import { startDaemon, type RunningDaemon } from "../daemon/src/daemon";
import { silentLogger } from "../daemon/src/log";

export const repoRoot = join(__dirname, "..");
export const cliPath = join(repoRoot, "bin", "lathe.js");

export async function tempDir(prefix = "lathe-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Starts a daemon in this process on port 0 in `root`; call `close()` when done. */
export async function daemonIn(root: string): Promise<RunningDaemon & { client: DaemonHandle }> {
  const daemon = await startDaemon({ root, port: 0, log: silentLogger() });
  return { ...daemon, client: connect(daemon.info) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/lathe.js; `npm run build` first) as a real child process. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
