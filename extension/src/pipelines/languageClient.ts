/**
 * Starts the lathe.yaml language server (dist/language-server.js, its own Node process over IPC)
 * for lathe.yaml and dvc.yaml files, which keep the `yaml` language so other YAML tooling still
 * applies. Its messages go to the "Lathe Language Server" channel (a LogOutputChannel, which
 * vscode-languageclient 11 requires).
 */
import * as vscode from "vscode";
import {
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { log } from "../vscode/log";

/** The files the server analyses. */
export const PIPELINE_SELECTOR = [{ scheme: "file", pattern: "**/{lathe,dvc}.yaml" }];

export function startPipelineLanguageClient(context: vscode.ExtensionContext): vscode.Disposable {
  const module = context.asAbsolutePath("dist/language-server.js");
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: {
      module,
      transport: TransportKind.ipc,
      options: { execArgv: ["--nolazy", "--inspect=6011"] },
    },
  };
  const outputChannel = vscode.window.createOutputChannel("Lathe Language Server", { log: true });
  const clientOptions: LanguageClientOptions = {
    documentSelector: PIPELINE_SELECTOR,
    outputChannel,
    synchronize: {
      configurationSection: "lathe.pipeline",
      // Params and vars files, pointers and lathe.lock change what the server reports about
      // lathe.yaml; the server also registers watchers for exactly the files a pipeline names
      // (deps of any kind), as it does in any editor.
      fileEvents: vscode.workspace.createFileSystemWatcher(
        "**/{*.yaml,*.yml,*.json,*.lathe,*.dvc,lathe.lock}",
      ),
    },
  };
  const client = new LanguageClient(
    "lathe.pipeline",
    "Lathe Language Server",
    serverOptions,
    clientOptions,
  );
  const started = Date.now();
  const stateSub = client.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      log.info(`Language server running (${module}, IPC) after ${Date.now() - started}ms`);
    } else if (e.newState === State.Stopped) {
      log.info("Language server stopped");
    }
  });
  log.info(`Starting the language server: ${module}`);
  void client.start().catch((err: unknown) => {
    log.error("The lathe.yaml language server failed to start:", err);
    outputChannel.show(true);
  });
  return {
    dispose: () => {
      stateSub.dispose();
      void client.dispose().finally(() => outputChannel.dispose());
    },
  };
}
