/**
 * The language server over a real JSON-RPC connection in process (STYLE 3.17): paired streams,
 * the server's own `createConnection`, a plain `vscode-jsonrpc` client, and a temporary workspace
 * with real files on disk.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { pathToFileURL } from "node:url";
import {
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
  type MessageConnection,
} from "vscode-jsonrpc/node";
import { ProposedFeatures, createConnection } from "vscode-languageserver/node";
import type {
  CodeAction,
  CodeLens,
  CompletionItem,
  CompletionList,
  Diagnostic,
  DocumentSymbol,
  FileSystemWatcher,
  Hover,
  Location,
  Position,
  PublishDiagnosticsParams,
  Range,
  WorkspaceEdit,
} from "vscode-languageserver";
import { startServer } from "../../extension/src/language-server/server";

export const repoRoot = join(__dirname, "..", "..");

export interface Lsp {
  client: MessageConnection;
  /** Settings the client answers `workspace/configuration` with. */
  settings: Record<string, unknown>;
  open(uri: string, text: string): void;
  change(uri: string, text: string): void;
  completion(uri: string, position: Position): Promise<CompletionItem[]>;
  hover(uri: string, position: Position): Promise<Hover | null>;
  definition(uri: string, position: Position): Promise<Location[]>;
  references(uri: string, position: Position): Promise<Location[]>;
  symbols(uri: string): Promise<DocumentSymbol[]>;
  diagnostics(uri: string): Promise<Diagnostic[]>;
  codeLenses(uri: string): Promise<CodeLens[]>;
  codeActions(uri: string, range: Range, diagnostics: Diagnostic[]): Promise<CodeAction[]>;
  rename(uri: string, position: Position, newName: string): Promise<WorkspaceEdit | null>;
  prepareRename(
    uri: string,
    position: Position,
  ): Promise<{ range: Range; placeholder: string } | null>;
  /** Tells the server that files changed on disk (what the client's watchers would send). */
  filesChanged(uris: string[]): void;
  /** The watchers the server registered last (dynamic registration), [] when none. */
  watchers(): FileSystemWatcher[];
  /** Resolves at the next `workspace/diagnostic/refresh` the server sends. */
  nextRefresh(): Promise<void>;
  /** Resolves with the next diagnostics the server publishes for `uri` that `accept` takes. */
  published(
    uri: string,
    accept?: (diagnostics: Diagnostic[]) => boolean,
  ): Promise<PublishDiagnosticsParams>;
  close(): void;
}

export interface LspOptions {
  /** The client pulls diagnostics (as VS Code does); false: it waits for them to be pushed. */
  pull?: boolean;
  /** The client lets the server register file watchers. */
  watch?: boolean;
  /** Watchers may be relative patterns (`{baseUri, pattern}`); else absolute glob strings. */
  relativePatterns?: boolean;
}

export async function startLsp(options: LspOptions = {}): Promise<Lsp> {
  const { pull = true, watch = false, relativePatterns = true } = options;
  const up = new PassThrough();
  const down = new PassThrough();
  const server = createConnection(ProposedFeatures.all, up, down);
  startServer(server);
  const client = createMessageConnection(
    new StreamMessageReader(down),
    new StreamMessageWriter(up),
  );
  const settings: Record<string, unknown> = { checkFiles: true };
  client.onRequest("workspace/configuration", (p: { items: unknown[] }) =>
    p.items.map(() => settings),
  );
  client.onRequest("workspace/codeLens/refresh", () => null);
  const refreshed: (() => void)[] = [];
  client.onRequest("workspace/diagnostic/refresh", () => {
    refreshed.splice(0).forEach((resolve) => resolve());
    return null;
  });
  let watchers: FileSystemWatcher[] = [];
  const registrations = new Map<string, FileSystemWatcher[]>();
  client.onRequest(
    "client/registerCapability",
    (p: {
      registrations: { id: string; registerOptions: { watchers: FileSystemWatcher[] } }[];
    }) => {
      for (const r of p.registrations) {
        registrations.set(r.id, r.registerOptions.watchers);
        watchers = r.registerOptions.watchers;
      }
      return null;
    },
  );
  client.onRequest("client/unregisterCapability", (p: { unregisterations: { id: string }[] }) => {
    p.unregisterations.forEach((u) => registrations.delete(u.id));
    watchers = [...registrations.values()].at(-1) ?? [];
    return null;
  });
  const waiting: {
    uri: string;
    accept: (d: Diagnostic[]) => boolean;
    resolve: (p: PublishDiagnosticsParams) => void;
  }[] = [];
  client.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
    for (const w of waiting.filter((w) => w.uri === p.uri && w.accept(p.diagnostics))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(p);
    }
  });
  client.listen();
  await client.sendRequest("initialize", {
    processId: null,
    rootUri: null,
    capabilities: {
      workspace: {
        configuration: true,
        diagnostics: { refreshSupport: true },
        codeLens: { refreshSupport: true },
        didChangeWatchedFiles: {
          dynamicRegistration: watch,
          relativePatternSupport: watch && relativePatterns,
        },
      },
      textDocument: pull ? { diagnostic: { dynamicRegistration: false } } : {},
    },
  });
  void client.sendNotification("initialized", {});
  const versions = new Map<string, number>();
  const doc = (uri: string) => ({ uri });
  return {
    client,
    settings,
    open(uri, text) {
      versions.set(uri, 1);
      void client.sendNotification("textDocument/didOpen", {
        textDocument: { uri, languageId: "yaml", version: 1, text },
      });
    },
    change(uri, text) {
      const version = (versions.get(uri) ?? 1) + 1;
      versions.set(uri, version);
      void client.sendNotification("textDocument/didChange", {
        textDocument: { uri, version },
        contentChanges: [{ text }],
      });
    },
    async completion(uri, position) {
      const r = await client.sendRequest<CompletionItem[] | CompletionList | null>(
        "textDocument/completion",
        {
          textDocument: doc(uri),
          position,
        },
      );
      return Array.isArray(r) ? r : (r?.items ?? []);
    },
    hover: (uri, position) =>
      client.sendRequest("textDocument/hover", { textDocument: doc(uri), position }),
    definition: async (uri, position) =>
      (await client.sendRequest<Location[] | null>("textDocument/definition", {
        textDocument: doc(uri),
        position,
      })) ?? [],
    references: async (uri, position) =>
      (await client.sendRequest<Location[] | null>("textDocument/references", {
        textDocument: doc(uri),
        position,
        context: { includeDeclaration: true },
      })) ?? [],
    symbols: async (uri) =>
      (await client.sendRequest<DocumentSymbol[] | null>("textDocument/documentSymbol", {
        textDocument: doc(uri),
      })) ?? [],
    async diagnostics(uri) {
      const report = await client.sendRequest<{ items: Diagnostic[] }>("textDocument/diagnostic", {
        textDocument: doc(uri),
      });
      return report.items;
    },
    codeLenses: async (uri) =>
      (await client.sendRequest<CodeLens[] | null>("textDocument/codeLens", {
        textDocument: doc(uri),
      })) ?? [],
    codeActions: async (uri, range, diagnostics) =>
      (await client.sendRequest<CodeAction[] | null>("textDocument/codeAction", {
        textDocument: doc(uri),
        range,
        context: { diagnostics },
      })) ?? [],
    rename: (uri, position, newName) =>
      client.sendRequest("textDocument/rename", { textDocument: doc(uri), position, newName }),
    prepareRename: (uri, position) =>
      client.sendRequest("textDocument/prepareRename", { textDocument: doc(uri), position }),
    filesChanged(uris) {
      void client.sendNotification("workspace/didChangeWatchedFiles", {
        changes: uris.map((uri) => ({ uri, type: 2 })),
      });
    },
    watchers: () => watchers,
    nextRefresh: () => new Promise((resolve) => refreshed.push(resolve)),
    published: (uri, accept = () => true) =>
      new Promise((resolve) => waiting.push({ uri, accept, resolve })),
    close() {
      client.dispose();
      server.dispose();
    },
  };
}

/** A copy of a folder in a fresh temporary directory; returns its path and a cleanup. */
export function copyWorkspace(from: string): {
  root: string;
  uri: (file: string) => string;
  remove: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), "lathe-lsp-"));
  cpSync(from, root, { recursive: true });
  return {
    root,
    uri: (file) => pathToFileURL(join(root, file)).toString(),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The position of the `nth` occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0, nth = 0): Position {
  let index = -1;
  for (let i = 0; i <= nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) {
      throw new Error(`'${needle}' not found in the text`);
    }
  }
  const offset = index + delta;
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}

/** The range of the `nth` occurrence of `needle`. */
export function rangeOf(text: string, needle: string, nth = 0): Range {
  const start = positionOf(text, needle, 0, nth);
  return { start, end: { line: start.line, character: start.character + needle.length } };
}
