/**
 * "Try it" (#5): a webview panel beside a deployment with a request prefilled from the model's
 * signature in an editable JSON box, a Send button and the answer (status, time, body). The host
 * sends the request (it holds the token); the webview only edits text. Strict CSP (DESIGN.md).
 */
import * as vscode from "vscode";
import type { Deployment, ModelVersion } from "../../../schemas/api";
import {
  isTryItWebviewMessage,
  type TryItHostMessage,
  type TryItWebviewMessage,
} from "../../../schemas/tryit";
import type { DaemonConnection } from "../daemon/connection";
import { webviewPage } from "../vscode/webviewPage";
import { log } from "../vscode/log";
import { sendTryIt, tryItEndpoints } from "./tryItRequests";

const panels = new Map<string, vscode.WebviewPanel>();

export async function openTryIt(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
  deployment: Deployment,
): Promise<void> {
  if (deployment.state !== "ready" || !deployment.url) {
    void vscode.window.showWarningMessage(
      `${deployment.name} is ${deployment.state}; redeploy it before trying it.`,
    );
    return;
  }
  const existing = panels.get(deployment.name);
  if (existing) {
    existing.reveal();
    return;
  }
  const version = await daemon.call<ModelVersion>(
    "GET",
    `/api/v1/models/${encodeURIComponent(deployment.model)}/versions/${deployment.version}`,
  );
  const endpoints = tryItEndpoints(deployment.model, version.signature);
  const url = deployment.url;

  const dist = vscode.Uri.joinPath(context.extensionUri, "dist");
  const panel = vscode.window.createWebviewPanel(
    "lathe.tryIt",
    `Try ${deployment.name}`,
    vscode.ViewColumn.Active,
    { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true },
  );
  panels.set(deployment.name, panel);
  const web = panel.webview;
  const asUri = (file: string) =>
    web.asWebviewUri(vscode.Uri.joinPath(dist, "webview", file)).toString();
  web.html = page(web.cspSource, asUri("tryit.js"), asUri("tryit.css"), deployment.name);

  const post = (message: TryItHostMessage) => void web.postMessage(message);
  const handle = async (message: TryItWebviewMessage) => {
    switch (message.type) {
      case "ready":
        post({ type: "init", title: `${deployment.name} v${deployment.version}`, url, endpoints });
        return;
      case "send": {
        const endpoint = endpoints.find((e) => e.id === message.endpoint);
        const token = daemon.state.kind === "up" ? daemon.state.info.token : undefined;
        if (!endpoint || !token) {
          post({
            type: "failed",
            requestId: message.requestId,
            message: "Lathe's local service is not running.",
          });
          return;
        }
        try {
          const answer = await sendTryIt(url, token, endpoint, message.body);
          log.info(`Try it: POST ${url}${endpoint.path} → ${answer.status} in ${answer.ms} ms`);
          post({ type: "response", requestId: message.requestId, ...answer });
        } catch (err) {
          post({ type: "failed", requestId: message.requestId, message: (err as Error).message });
        }
        return;
      }
    }
  };
  const subscription = web.onDidReceiveMessage((message: unknown) => {
    if (!isTryItWebviewMessage(message)) {
      log.warn("Try it: ignored a message of unknown shape", message);
      return;
    }
    void handle(message);
  });
  panel.onDidDispose(() => {
    subscription.dispose();
    panels.delete(deployment.name);
  });
}

function page(cspSource: string, script: string, style: string, title: string): string {
  return webviewPage({
    cspSource,
    script,
    styles: [style],
    title: `Try ${title}`,
    loading: "Loading…",
  });
}
