/**
 * `lathe lsp --stdio`: the lathe.yaml language server for any editor, over stdin/stdout. The same
 * server the VS Code extension starts (extension/src/language-server); nothing else may write to
 * stdout while it runs.
 */
import type { Command } from "commander";
import { ProposedFeatures, createConnection } from "vscode-languageserver/node";
import { startServer } from "../../../../extension/src/language-server/server";

export function registerLspCommand(program: Command): void {
  program
    .command("lsp")
    .description("Run the lathe.yaml language server (LSP) over stdio")
    .option("--stdio", "talk LSP over stdin and stdout (the only transport)")
    .action(() => {
      startServer(createConnection(ProposedFeatures.all, process.stdin, process.stdout));
    });
}
