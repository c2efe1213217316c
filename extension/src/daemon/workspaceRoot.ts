/** Which folder of the window is the Lathe workspace. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";

const PIPELINE_FILES = ["lathe.yaml", "dvc.yaml"];

/** The first workspace folder holding a lathe.yaml (or a dvc.yaml); undefined when none does. */
export function findWorkspaceRoot(): vscode.WorkspaceFolder | undefined {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file");
  for (const file of PIPELINE_FILES) {
    const folder = folders.find((f) => existsSync(join(f.uri.fsPath, file)));
    if (folder) {
      return folder;
    }
  }
  return undefined;
}
