/**
 * "Lathe: Compare Runs": a webview panel of the selected runs. The host fetches from the daemon
 * (CompareSession) and posts to the webview; the webview never reaches the daemon itself.
 */
import * as vscode from "vscode";
import { isWebviewMessage, type HostMessage } from "../../../../schemas/webview";
import type { DaemonConnection } from "../../daemon/connection";
import { log } from "../../vscode/log";
import { readSettings } from "../../vscode/settings";
import { openRunLog } from "../runLog";
import { comparePage } from "./html";
import { CompareSession } from "./session";

const panels = new Set<vscode.WebviewPanel>();

export function openComparePanel(
  context: vscode.ExtensionContext,
  daemon: DaemonConnection,
  runs: { id: string; name: string }[],
): void {
  const dist = vscode.Uri.joinPath(context.extensionUri, "dist");
  const title = `Compare: ${runs.map((r) => r.name).join(", ")}`;
  const panel = vscode.window.createWebviewPanel(
    "lathe.compare",
    runs.length === 1 ? `Run: ${runs[0]!.name}` : `Compare ${runs.length} runs`,
    vscode.ViewColumn.Active,
    { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true },
  );
  panels.add(panel);
  const web = panel.webview;
  const asUri = (...path: string[]) => web.asWebviewUri(vscode.Uri.joinPath(dist, ...path));
  web.html = comparePage({
    cspSource: web.cspSource,
    script: asUri("webview", "compare.js").toString(),
    style: asUri("webview", "compare.css").toString(),
    codicons: asUri("webview", "codicon.css").toString(),
    title,
  });

  const settings = readSettings();
  const post = (message: HostMessage) => void web.postMessage(message);
  const session = new CompareSession(
    daemon,
    runs.map((r) => r.id),
    post,
    settings.compare,
    (runId) => void openRunLog(daemon, runId),
  );
  const subscriptions = [
    web.onDidReceiveMessage((message: unknown) => {
      if (!isWebviewMessage(message)) {
        log.warn("Compare view: ignored a message of unknown shape", message);
        return;
      }
      void session.handle(message);
    }),
    daemon.onEvent((event) => {
      if (event.type === "runs/changed") {
        void session.runChanged(event.runId);
      }
    }),
    // After a reconnect the daemon may have more points: the webview starts over on `ready`.
    daemon.onDidChangeState((state) => {
      if (state.kind === "up") {
        void session.restart();
      }
    }),
  ];
  panel.onDidDispose(() => {
    panels.delete(panel);
    for (const s of subscriptions) {
      s.dispose();
    }
  });
}

/** Open Compare panels, for tests and for closing them on deactivate. */
export function comparePanelCount(): number {
  return panels.size;
}
