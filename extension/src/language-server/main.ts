/**
 * Entry of dist/language-server.js: the transport comes from the command line the client passes
 * (`--node-ipc` from the extension, `--stdio` from other editors).
 */
import { ProposedFeatures, createConnection } from "vscode-languageserver/node";
import { startServer } from "./server";

startServer(createConnection(ProposedFeatures.all));
