/**
 * `lathe deploy <target>` (#5): `name`, `name@3` or `name@alias`, with an optional traffic split
 * and the batching options; it goes through the workspace daemon, which keeps the worker running.
 */
import { InvalidArgumentError, type Command } from "commander";
import type { DeployRequest, Deployment } from "../../../../schemas/api";
import { findDaemon, startDaemonProcess, stopDaemon, type DaemonHandle } from "../../client";
import { action, cliScript, print, workspaceFor } from "../output";
import { integerIn } from "../parse";

interface DeployOptions {
  split?: DeployRequest["split"];
  maxBatchRows?: number;
  maxDelayMs?: number;
  maxQueue?: number;
}

export function registerDeployCommand(program: Command): void {
  program
    .command("deploy <target>")
    .description(
      "serve a model (<name>, <name>@<version> or <name>@<alias>) on 127.0.0.1 from the workspace daemon; deploying again switches versions without downtime",
    )
    .option(
      "--split <target:percent>",
      "send percent of the traffic to another version, e.g. weather@3:10",
      parseSplit,
    )
    .option(
      "--max-batch-rows <n>",
      "most rows merged into one inference (1 turns batching off; default 64)",
      integerIn(1, 4096),
    )
    .option(
      "--max-delay-ms <ms>",
      "longest a request waits for others to batch with (default 2)",
      integerIn(0, 1000),
    )
    .option(
      "--max-queue <n>",
      "requests waiting before new ones get 503 (default 256)",
      integerIn(1, 100000),
    )
    .action(
      action(async (target: string, opts: DeployOptions, cmd: Command) => {
        const ws = workspaceFor(cmd);
        const request: DeployRequest = { model: target, ...opts };
        const deployment = await deployThroughDaemon(ws.root, request);
        const name = deployment.name;
        const shares = deployment.traffic
          .map((t) => `${name}@${t.version} ${t.percent}%`)
          .join(", ");
        const alias =
          target.includes("@") && !/@\d+$/.test(target) ? ` (${target}, followed as it moves)` : "";
        print(
          cmd,
          deployment,
          () =>
            `Deployed ${shares}${alias} at ${deployment.url}\n  POST ${deployment.url}/predict  ·  POST ${deployment.url}/invocations  ·  POST ${deployment.url}/v2/models/${name}/infer  ·  GET ${deployment.url}/metrics\n  (send 'Authorization: Bearer <token>' from .lathe/daemon.json)`,
        );
      }),
    );
}

/**
 * Posts the deployment to the workspace daemon, starting one when none runs; a daemon started
 * here for a deploy that then fails (an unknown model, a bad split) is stopped again, so a typo
 * leaves nothing running.
 */
async function deployThroughDaemon(root: string, request: DeployRequest): Promise<Deployment> {
  const running = await findDaemon(root);
  const daemon: DaemonHandle =
    running ?? (await startDaemonProcess(root, { cliScript: cliScript() }));
  try {
    return await daemon.call<Deployment>("POST", "/api/v1/deployments", request);
  } catch (err) {
    if (!running) {
      await stopDaemon(daemon);
    }
    throw err;
  }
}

/** `lathe deployments`: what the workspace daemon serves, with state, versions and URL. */
export function registerDeploymentsCommand(program: Command): void {
  program
    .command("deployments")
    .description("list the workspace's deployments: state, target, versions and URL")
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const ws = workspaceFor(cmd);
        const daemon = await findDaemon(ws.root);
        const all = daemon ? await daemon.call<Deployment[]>("GET", "/api/v1/deployments") : [];
        print(cmd, all, () => deploymentsText(all, Boolean(daemon)));
      }),
    );
}

function deploymentsText(all: Deployment[], daemonRuns: boolean): string {
  if (!daemonRuns) {
    return "No Lathe daemon runs for this workspace, so nothing is deployed. Start with 'lathe deploy <model>'.";
  }
  if (all.length === 0) {
    return "Nothing is deployed. Deploy with 'lathe deploy <model>'.";
  }
  return all
    .map((d) => {
      const shares = d.traffic.map((t) => `v${t.version} ${t.percent}%`).join(", ");
      const restarts = d.restarts ? `, ${d.restarts} restart${d.restarts === 1 ? "" : "s"}` : "";
      const error = d.error ? `\n    ${d.error.split("\n")[0]}` : "";
      return `${d.name.padEnd(16)} ${d.state.padEnd(10)} ${d.target} (${shares}${restarts})  ${d.url ?? "-"}${error}`;
    })
    .join("\n");
}

function parseSplit(raw: string): DeployRequest["split"] {
  const colon = raw.lastIndexOf(":");
  const percent = Number(raw.slice(colon + 1));
  if (colon <= 0 || !(percent > 0 && percent < 100)) {
    // Commander reports this as a usage error: exit 2 with the option named.
    throw new InvalidArgumentError(
      "Expected <target>:<percent> with a percent between 0 and 100, e.g. weather@3:10.",
    );
  }
  return { target: raw.slice(0, colon), percent };
}
