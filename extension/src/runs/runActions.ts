/**
 * Context actions on a run in the Runs view: Tag, Delete (with confirmation and Undo, which
 * restores it), and Re-run with Edited Params (a quick pick of the params, an input box per
 * edited one, the values written into the params files, then a tracked repro of the stage and
 * what is downstream of it).
 */
import { readFile } from "node:fs/promises";
import * as vscode from "vscode";
import type { PipelineDag, RunSummary } from "../../../schemas/api";
import { resolveInside } from "../../../daemon/src/workspace";
import type { DaemonConnection } from "../daemon/connection";
import { applyParamEdits, changedParams, stageParamsFile } from "./paramsEdit";
import { reproduce } from "./reproduce";
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

export async function rerunWithParams(
  daemon: DaemonConnection,
  root: string,
  node?: RunsNode,
): Promise<void> {
  const run = runOf(node);
  if (!run?.stage) {
    void vscode.window.showInformationMessage(
      "Re-run works on a stage run: expand a repro in the Runs view and pick one of its stages.",
    );
    return;
  }
  const edited = await editParams(run);
  if (!edited) {
    return;
  }
  // The stage as lathe.yaml has it now (what the re-run will run): its wdir holds its params.yaml.
  const dag = await daemon.call<PipelineDag>("GET", "/api/v1/pipeline/dag");
  const wdir = dag.stages.find((s) => s.name === run.stage)?.wdir ?? "";
  const changes = changedParams(run.params, edited, stageParamsFile(wdir));
  if (changes.size === 0) {
    const again = await vscode.window.showInformationMessage(
      `No param of ${run.stage} changed.`,
      "Run Anyway",
    );
    if (again !== "Run Anyway") {
      return;
    }
  }
  const edit = new vscode.WorkspaceEdit();
  const touched: vscode.Uri[] = [];
  for (const [file, edits] of changes) {
    const uri = vscode.Uri.file(resolveInside(root, file, "params file"));
    const doc = await vscode.workspace.openTextDocument(uri);
    const text = doc.isDirty ? doc.getText() : await readFile(uri.fsPath, "utf8");
    const whole = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    edit.replace(uri, whole, applyParamEdits(file, text, edits));
    touched.push(uri);
  }
  if (touched.length > 0 && !(await vscode.workspace.applyEdit(edit))) {
    throw new Error("The editor refused the edit of the params file.");
  }
  for (const uri of touched) {
    await (await vscode.workspace.openTextDocument(uri)).save();
  }
  await reproduce(daemon, { stages: [run.stage], downstream: true, force: changes.size === 0 });
}

/** The params in a quick pick; picking one asks for its value; "Run" ends. Undefined: cancelled. */
async function editParams(run: RunSummary): Promise<Record<string, string> | undefined> {
  const values = { ...run.params };
  const keys = Object.keys(values).sort();
  for (;;) {
    type Item = vscode.QuickPickItem & { key?: string };
    const items: Item[] = [
      { label: `$(play) Re-run ${run.stage} with these params`, alwaysShow: true },
      ...keys.map((key) => ({
        label: key,
        description: values[key],
        detail: values[key] === run.params[key] ? undefined : `was ${run.params[key]}`,
        key,
      })),
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Re-run ${run.stage} (${run.id.slice(0, 7)}): pick a param to edit`,
      placeHolder: "Pick a param to change its value, or the first item to run",
    });
    if (!picked) {
      return undefined;
    }
    if (picked.key === undefined) {
      return values;
    }
    const value = await vscode.window.showInputBox({
      title: `${picked.key} (was ${run.params[picked.key]})`,
      value: values[picked.key],
      prompt: "A YAML value: 0.01, true, text, [1, 2]",
    });
    if (value !== undefined) {
      values[picked.key] = value;
    }
  }
}
