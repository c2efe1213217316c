/**
 * The Deployments view and its actions (#5): Stop, Redeploy (same target, split and options:
 * an alias is resolved again), Copy URL and Try it. Registered from extension.ts in one call.
 */
import * as vscode from "vscode";
import type { DeployRequest, Deployment } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { guarded } from "../vscode/errors";
import { log } from "../vscode/log";
import type { Deployments } from "./deployments";
import { DeploymentsView, type DeploymentNode } from "./deploymentsView";
import { openTryIt } from "./tryIt";

export function registerDeployments(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
  deployments: Deployments,
): void {
  const view = new DeploymentsView(daemon, deployments);
  const tree = vscode.window.createTreeView("lathe.deployments", { treeDataProvider: view });
  view.attach(tree);
  context.subscriptions.push(view, tree, tellCrashes(deployments));

  const command = (id: string, what: string, body: (d: Deployment) => Promise<unknown>) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(
        id,
        guarded(what, async (node?: DeploymentNode) => {
          const deployment = node?.deployment ?? (await pick(deployments, what));
          if (deployment) {
            await body(deployment);
          }
        }),
      ),
    );
  command("lathe.deployments.stop", "Stopping the deployment failed", async (d) => {
    await daemon.call("DELETE", `/api/v1/deployments/${encodeURIComponent(d.name)}`);
    log.info(`Stopped deployment ${d.name}`);
    await deployments.refresh();
  });
  command("lathe.deployments.redeploy", "Redeploying failed", (d) =>
    redeploy(daemon, deployments, d),
  );
  command("lathe.deployments.copyUrl", "Copying the URL failed", async (d) => {
    if (!d.url) {
      void vscode.window.showWarningMessage(
        `${d.name} is ${d.state}: it has no URL until it is redeployed.`,
      );
      return;
    }
    await vscode.env.clipboard.writeText(d.url);
    void vscode.window.setStatusBarMessage(`Copied ${d.url}`, 3000);
  });
  command("lathe.deployments.tryIt", "Opening Try it failed", (d) => openTryIt(context, daemon, d));
}

/**
 * A deployment that leaves `ready` without being stopped crashed, and one whose restart count
 * grew crashed too (the list may skip the short `failed` state): say so once per crash, with the
 * daemon's reason. The daemon restarts it (failed → restarting → ready) and the view follows.
 */
function tellCrashes(deployments: Deployments): vscode.Disposable {
  const seen = new Map<string, { state: Deployment["state"]; restarts: number }>();
  return deployments.onDidChange((all) => {
    for (const d of all) {
      const before = seen.get(d.name);
      seen.set(d.name, { state: d.state, restarts: d.restarts });
      const isDown = d.state === "failed" || d.state === "restarting";
      const wentDown = before?.state === "ready" && isDown;
      const cameBack = before !== undefined && !isDown && d.restarts > before.restarts;
      const wasTold = before !== undefined && before.state !== "ready";
      if (wentDown || (cameBack && !wasTold)) {
        const what = isDown ? "Lathe is restarting it" : "Lathe restarted it";
        log.warn(`Deployment ${d.name} crashed (${what}): ${d.error ?? "no reason given"}`);
        void vscode.window
          .showWarningMessage(`The deployment ${d.name} crashed; ${what}.`, "Open Log")
          .then((choice) => choice === "Open Log" && log.show());
      }
    }
  });
}

/** Deploys the same target again, with its split and batching options, showing progress. */
async function redeploy(
  daemon: DaemonConnection,
  deployments: Deployments,
  d: Deployment,
): Promise<void> {
  const second = d.traffic[1];
  const request: DeployRequest = {
    model: d.target,
    ...(second
      ? { split: { target: `${d.model}@${second.version}`, percent: second.percent } }
      : {}),
    ...d.options,
  };
  const deployed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Lathe: redeploying ${d.target}…` },
    () => daemon.call<Deployment>("POST", "/api/v1/deployments", request, 120_000),
  );
  log.info(`Redeployed ${deployed.name}: v${deployed.version} at ${deployed.url}`);
  await deployments.refresh();
  void vscode.window.showInformationMessage(
    `Redeployed ${deployed.target} (v${deployed.version}) at ${deployed.url}`,
  );
}

async function pick(deployments: Deployments, what: string): Promise<Deployment | undefined> {
  await deployments.refresh();
  const items = deployments.all.map((d) => ({
    label: d.name,
    description: `v${d.version} · ${d.state}`,
    detail: d.url ?? undefined,
    deployment: d,
  }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage(
      "Nothing is deployed. Deploy a model from the Models view first.",
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: what.replace(/ failed$/, "") });
  return picked?.deployment;
}
