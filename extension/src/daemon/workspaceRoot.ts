/** Which folder of the window is the Lathe workspace, and waiting for one to appear. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { log } from "../vscode/log";

const PIPELINE_FILES = ["lathe.yaml", "dvc.yaml"];

/** Commands that work without a workspace; every other contributed command waits for one. */
const ALWAYS_AVAILABLE = new Set(["lathe.showLog", "lathe.createPipeline"]);

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

/**
 * Keeps Lathe idle until a workspace folder gets a lathe.yaml or dvc.yaml (the file is created, or
 * a folder holding one is added), then calls `start` once with that folder. Until then the
 * workspace commands say what is missing instead of failing.
 */
export function waitForWorkspace(
  context: vscode.ExtensionContext,
  start: (folder: vscode.WorkspaceFolder) => void,
): void {
  log.info("No workspace folder has a lathe.yaml or dvc.yaml yet; Lathe waits for one.");
  void vscode.commands.executeCommand("setContext", "lathe.daemon", "none");

  const waiting: vscode.Disposable[] = workspaceCommands(context).map((id) =>
    vscode.commands.registerCommand(id, () => explainIdle()),
  );
  const watcher = vscode.workspace.createFileSystemWatcher(`**/{${PIPELINE_FILES.join(",")}}`);
  waiting.push(watcher);

  let started = false;
  const check = () => {
    const folder = findWorkspaceRoot();
    if (started || !folder) {
      return;
    }
    started = true;
    // The idle commands hold the ids the real ones need: release them first.
    for (const d of waiting.splice(0)) {
      d.dispose();
    }
    log.info(`${folder.uri.fsPath} now has a pipeline file; starting Lathe there.`);
    start(folder);
  };
  waiting.push(watcher.onDidCreate(check), vscode.workspace.onDidChangeWorkspaceFolders(check));
  context.subscriptions.push({
    dispose: () => {
      for (const d of waiting.splice(0)) {
        d.dispose();
      }
    },
  });
}

/** The ids of the manifest's commands that need a workspace (so a new command is never missed). */
function workspaceCommands(context: vscode.ExtensionContext): string[] {
  const manifest = context.extension.packageJSON as {
    contributes?: { commands?: { command: string }[] };
  };
  return (manifest.contributes?.commands ?? [])
    .map((c) => c.command)
    .filter((id) => !ALWAYS_AVAILABLE.has(id));
}

function explainIdle(): void {
  void vscode.window
    .showWarningMessage(
      "Lathe needs a workspace folder with a lathe.yaml (or dvc.yaml). Create one, or open a folder that has one.",
      "Create lathe.yaml",
    )
    .then((choice) => {
      if (choice === "Create lathe.yaml") {
        void createPipelineFile();
      }
    });
}

/** Writes a starter lathe.yaml into the first folder of the window and opens it. */
export async function createPipelineFile(): Promise<void> {
  const folder = (vscode.workspace.workspaceFolders ?? []).find((f) => f.uri.scheme === "file");
  if (!folder) {
    void vscode.window.showWarningMessage("Open a folder first (File: Open Folder…).");
    return;
  }
  const uri = vscode.Uri.joinPath(folder.uri, "lathe.yaml");
  const exists = await vscode.workspace.fs.stat(uri).then(
    () => true,
    () => false,
  );
  if (exists) {
    await vscode.window.showTextDocument(uri); // Never overwrite the user's file.
    return;
  }
  const starter = [
    "# Lathe pipeline: each stage runs `cmd`; deps and params decide when it is stale.",
    "stages:",
    "  prepare:",
    "    cmd: python prepare.py",
    "    deps: [prepare.py]",
    "    outs: [data/prepared]",
    "",
  ].join("\n");
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(starter));
  await vscode.window.showTextDocument(uri);
}
