/**
 * The status bar item: the daemon's state, or the URL of a ready deployment (kept literally in
 * the text so it can be read and copied at a glance).
 */
import * as vscode from "vscode";
import type { Deployment } from "../../../schemas/api";
import type { DaemonConnection, DaemonState } from "../daemon/connection";
import type { Deployments } from "../models/deployments";
import { assertNever } from "../runs/format";

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    "lathe.status",
    vscode.StatusBarAlignment.Left,
    0,
  );
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(
    private readonly daemon: DaemonConnection,
    private readonly deployments: Deployments,
  ) {
    this.item.name = "Lathe";
    this.disposables.push(
      daemon.onDidChangeState(() => this.update()),
      deployments.onDidChange(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  /** The deployment the item shows, if any is ready. */
  get shown(): Deployment | undefined {
    return this.deployments.all.find((d) => d.state === "ready" && d.url);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }

  private update(): void {
    const state: DaemonState = this.daemon.state;
    switch (state.kind) {
      case "starting":
        this.set("$(sync~spin) Lathe", "Lathe: starting the local service…", "lathe.showLog");
        return;
      case "down":
        this.set(
          "$(warning) Lathe",
          `Lathe's local service is not running: ${state.reason}. Click for the log.`,
          "lathe.showLog",
        );
        return;
      case "up":
        return this.updateUp(state.info.pid, state.info.port, state.info.version);
      default:
        return assertNever(state);
    }
  }

  private updateUp(pid: number, port: number, version: string): void {
    const service = `Lathe ${version}: local service pid ${pid}, port ${port}`;
    const deployment = this.shown;
    if (!deployment?.url) {
      this.set("$(beaker) Lathe", service, "workbench.view.extension.lathe");
      return;
    }
    const others = this.deployments.all.filter((d) => d.state === "ready").length - 1;
    const text = `$(rocket) ${deployment.model} v${deployment.version}: ${deployment.url}${others > 0 ? ` +${others}` : ""}`;
    this.set(
      text,
      `${deployment.model} v${deployment.version} is served at ${deployment.url}\n${service}`,
      "lathe.deploymentActions",
    );
  }

  private set(text: string, tooltip: string, command: string): void {
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
  }
}
