/** "Lathe: Deploy" and "Lathe: Undeploy": serve a model version on its own local port. */
import * as vscode from "vscode";
import type { DeployRequest, Deployment, RegisteredModel } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";
import { aliasChoices, deploymentLabel, modelDeployChoices, requestLabel } from "./deployChoices";
import type { Deployments } from "./deployments";
import type { ModelsNode } from "./modelsTree";

/** How long a worker may take to load its model and answer. */
const READY_TIMEOUT_MS = 60_000;

/** A Models view node, or `{ model, version }` from another command, or nothing (then we ask). */
export type DeployTarget = ModelsNode | { model: string; version?: number };

export async function deploy(
  daemon: DaemonConnection,
  deployments: Deployments,
  target?: DeployTarget,
): Promise<void> {
  const picked = target ? await chooseRequest(target) : await pickVersion(daemon);
  if (!picked) {
    return;
  }
  const request: DeployRequest = { ...picked, ...servingOptions() };
  const what = requestLabel(request);
  const started = Date.now();
  log.info(`Deploying ${what}`, request);
  const deployment = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Lathe: deploying ${what}…` },
    async () => {
      const created = await daemon.call<Deployment>(
        "POST",
        "/api/v1/deployments",
        request,
        READY_TIMEOUT_MS * 2,
      );
      return created.state === "starting" ? waitUntilSettled(deployments, created.name) : created;
    },
  );
  const served = deploymentLabel(deployment);
  log.info(
    `Deployment ${deployment.name} (${served}) ${deployment.state} after ${((Date.now() - started) / 1000).toFixed(1)}s`,
    { url: deployment.url, pid: deployment.pid },
  );
  await deployments.refresh();
  if (deployment.state !== "ready" || !deployment.url) {
    const choice = await vscode.window.showErrorMessage(
      `Deploying ${served} failed: ${deployment.error ?? deployment.state}`,
      "Open Log",
    );
    if (choice === "Open Log") {
      log.show();
    }
    return;
  }
  const url = deployment.url;
  const choice = await vscode.window.showInformationMessage(
    `Deployed ${served} at ${url}`,
    "Copy URL",
  );
  if (choice === "Copy URL") {
    await vscode.env.clipboard.writeText(url);
  }
}

export async function undeploy(
  daemon: DaemonConnection,
  deployments: Deployments,
  target?: DeployTarget,
): Promise<void> {
  const deployment = target ? deploymentOf(deployments, target) : await pickDeployment(deployments);
  if (!deployment) {
    return;
  }
  await daemon.call<unknown>(
    "DELETE",
    `/api/v1/deployments/${encodeURIComponent(deployment.name)}`,
  );
  log.info(`Undeployed ${deployment.name} (${deploymentLabel(deployment)})`);
  await deployments.refresh();
  void vscode.window.showInformationMessage(`Stopped serving ${deploymentLabel(deployment)}.`);
}

/**
 * Deploy on a model's row asks which to serve when the model has aliases: an alias, which the
 * deployment follows, or the latest version, pinned. A version's row pins that version.
 */
async function chooseRequest(target: DeployTarget): Promise<DeployRequest | undefined> {
  if (!("kind" in target) || target.kind !== "model") {
    return requestOf(target);
  }
  const choices = modelDeployChoices(target.model);
  if (choices.length <= 1) {
    return requestOf(target);
  }
  const picked = await vscode.window.showQuickPick(choices, {
    title: `Deploy ${target.model.name}`,
    placeHolder: "Follow an alias as it moves, or pin the latest version",
    matchOnDescription: true,
  });
  return picked?.request;
}

function requestOf(target: DeployTarget): DeployRequest | undefined {
  if ("kind" in target) {
    return target.kind === "version"
      ? { model: target.version.model, version: target.version.version }
      : { model: target.model.name };
  }
  return target.version === undefined
    ? { model: target.model }
    : { model: target.model, version: target.version };
}

function deploymentOf(deployments: Deployments, target: DeployTarget): Deployment | undefined {
  const request = requestOf(target);
  if (!request) {
    return undefined;
  }
  return request.version === undefined
    ? deployments.all.find((d) => d.model === request.model && d.state !== "stopped")
    : deployments.find(request.model, request.version);
}

async function pickVersion(daemon: DaemonConnection): Promise<DeployRequest | undefined> {
  const models = await daemon.call<RegisteredModel[]>("GET", "/api/v1/models");
  const items = models.flatMap((m) => [
    ...aliasChoices(m),
    ...[...m.versions]
      .sort((a, b) => b.version - a.version)
      .map((v) => ({
        label: `${m.name} v${v.version}`,
        description: v.path,
        request: { model: m.name, version: v.version },
      })),
  ]);
  if (items.length === 0) {
    void vscode.window.showWarningMessage(
      "No model is registered yet. Use 'Lathe: Register Model…' on a run first.",
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: "Deploy",
    placeHolder: "Pick a model version, or an alias to follow",
    matchOnDescription: true,
  });
  return picked?.request;
}

async function pickDeployment(deployments: Deployments): Promise<Deployment | undefined> {
  await deployments.refresh();
  const items = deployments.all
    .filter((d) => d.state !== "stopped")
    .map((d) => ({
      label: `${d.model} v${d.version}`,
      description: d.url ?? d.state,
      deployment: d,
    }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage("Nothing is deployed.");
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: "Undeploy",
    placeHolder: "Pick a deployment to stop",
  });
  return picked?.deployment;
}

/** Resolves when the named deployment is ready or failed, as `deployments/changed` events report. */
function waitUntilSettled(deployments: Deployments, name: string): Promise<Deployment> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const d = deployments.all.find((x) => x.name === name);
      if (d && d.state !== "starting") {
        done();
        resolve(d);
      }
    };
    const sub = deployments.onDidChange(check);
    const timer = setTimeout(() => {
      done();
      reject(new Error(`deployment '${name}' was not ready within ${READY_TIMEOUT_MS / 1000}s`));
    }, READY_TIMEOUT_MS);
    const done = () => {
      sub.dispose();
      clearTimeout(timer);
    };
    // The change event may have come before we listened: ask once now.
    void deployments.refresh();
  });
}

/** The batching options of `lathe.deploy.*` (#5), sent with every deploy from the editor. */
function servingOptions(): Pick<DeployRequest, "maxBatchRows" | "maxDelayMs" | "maxQueue"> {
  const config = vscode.workspace.getConfiguration("lathe.deploy");
  return {
    maxBatchRows: config.get<number>("maxBatchRows") ?? 64,
    maxDelayMs: config.get<number>("maxDelayMs") ?? 2,
    maxQueue: config.get<number>("maxQueue") ?? 256,
  };
}
