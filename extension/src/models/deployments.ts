/**
 * The daemon's deployments, kept current from `deployments/changed` events. The Models view and
 * the status bar item read them from here, so both show the same thing.
 */
import * as vscode from "vscode";
import type { Deployment } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";

export class Deployments implements vscode.Disposable {
  private list: Deployment[] = [];
  private readonly changed = new vscode.EventEmitter<Deployment[]>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private generation = 0;
  readonly onDidChange = this.changed.event;

  constructor(private readonly daemon: DaemonConnection) {
    this.disposables.push(
      daemon.onDidChangeState(() => void this.refresh()),
      daemon.onEvent((event) => {
        if (event.type === "deployments/changed") {
          void this.refresh();
        }
      }),
    );
  }

  get all(): readonly Deployment[] {
    return this.list;
  }

  /** The deployment serving `model` at `version`, if one is starting or ready. */
  find(model: string, version: number): Deployment | undefined {
    return this.list.find(
      (d) =>
        d.model === model &&
        d.version === version &&
        (d.state === "ready" || d.state === "starting"),
    );
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    let next: Deployment[] = [];
    if (this.daemon.state.kind === "up") {
      try {
        next = await this.daemon.call<Deployment[]>("GET", "/api/v1/deployments");
      } catch (err) {
        log.warn("Could not list deployments:", err);
        return;
      }
    }
    if (generation !== this.generation) {
      return; // A newer refresh started meanwhile; its answer wins.
    }
    this.list = next;
    this.changed.fire(next);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }
}
