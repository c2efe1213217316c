/**
 * Context actions on a run in the Runs view: Tag, and Delete (with confirmation and Undo, which
 * restores it). Re-run with Edited Params is rerun.ts.
 */
import * as vscode from "vscode";
import type { RunSummary } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import type { RunsNode } from "./runNodes";

function runOf(node: RunsNode | undefined): RunSummary | undefined {
  return node && "run" in node ? node.run : undefined;
}

const runPath = (run: RunSummary) => `/api/v1/runs/${encodeURIComponent(run.id)}`;

export async function tagRun(daemon: DaemonConnection, node?: RunsNode): Promise<void> {
  const run = runOf(node);
  if (!run) {
    return;
  }
  const text = await vscode.window.showInputBox({
    title: `Tag ${run.name} (${run.id.slice(0, 7)})`,
    prompt: "key=value sets a tag; a key alone with = (key=) removes it.",
    placeHolder: "best=true",
    validateInput: (v) => (/^[^=\s][^=]*=/.test(v.trim()) ? undefined : "Write key=value."),
  });
  if (text === undefined) {
    return;
  }
  const eq = text.indexOf("=");
  const key = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  const path = `${runPath(run)}/tags/${encodeURIComponent(key)}`;
  if (value === "") {
    await daemon.call("DELETE", path);
  } else {
    await daemon.call("PUT", path, { value });
  }
}

export async function deleteRun(daemon: DaemonConnection, node?: RunsNode): Promise<void> {
  const run = runOf(node);
  if (!run) {
    return;
  }
  // The daemon deletes a run's stage runs (its descendants) with it, and Undo restores them.
  const stages = node?.kind === "run" ? node.children.length : 0;
  const withStages = stages > 0 ? ` and its ${stages} stage run${stages === 1 ? "" : "s"}` : "";
  const choice = await vscode.window.showWarningMessage(
    `Delete run ${run.name} (${run.id.slice(0, 7)})${withStages}?`,
    {
      modal: true,
      detail: `${stages > 0 ? "They are" : "It is"} hidden from the Runs view and searches; Undo restores ${stages > 0 ? "them" : "it"}.`,
    },
    "Delete",
  );
  if (choice !== "Delete") {
    return;
  }
  await daemon.call("DELETE", runPath(run));
  const undo = await vscode.window.showInformationMessage(
    `Deleted run ${run.name}${withStages}.`,
    "Undo",
  );
  if (undo === "Undo") {
    await daemon.call("POST", `${runPath(run)}/restore`);
  }
}
