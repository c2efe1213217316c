/** `lathe daemon`: run the workspace daemon in the foreground; `daemon stop` / `daemon status`. */
import type { Command } from "commander";
import { findDaemon, stopDaemon } from "../../client";
import { runDaemonForever } from "../../daemon";
import { action, print, workspaceFor } from "../output";
import { integerIn } from "../parse";

export function registerDaemon(program: Command): void {
  const daemon = program
    .command("daemon")
    .description("run the workspace daemon (foreground; the editor and CLI start it as needed)")
    .option("--port <n>", "port on 127.0.0.1 (default: any free port)", integerIn(0, 65_535))
    .action(
      action(async (opts: { port?: number }, cmd: Command) => {
        const ws = workspaceFor(cmd);
        await runDaemonForever({ root: ws.root, port: opts.port });
      }),
    );

  daemon
    .command("status")
    .description("say whether a daemon runs for this workspace, and where")
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const ws = workspaceFor(cmd);
        const found = await findDaemon(ws.root);
        const value = found
          ? {
              running: true,
              pid: found.info.pid,
              port: found.info.port,
              version: found.info.version,
            }
          : { running: false };
        print(cmd, value, () =>
          found
            ? `daemon pid ${found.info.pid} on 127.0.0.1:${found.info.port}`
            : "no daemon running",
        );
      }),
    );

  daemon
    .command("stop")
    .description("stop the workspace daemon and its deployments")
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const ws = workspaceFor(cmd);
        const found = await findDaemon(ws.root);
        if (found) {
          await stopDaemon(found);
        }
        print(cmd, { stopped: Boolean(found) }, () =>
          found ? "daemon stopped" : "no daemon running",
        );
      }),
    );
}
