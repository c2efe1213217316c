/**
 * The lathe.yaml language server: one object built around a connection passed in (STYLE 3.20), so
 * the editor's stdio/IPC connection and the tests' in-process one run the same code. Documents are
 * analysed once per version; settings are asked per document and cached until the configuration
 * changes or the document closes; hovers and code actions lose to newer ones instead of queueing.
 */
import {
  CodeActionKind,
  DocumentDiagnosticReportKind,
  TextDocumentSyncKind,
  TextDocuments,
  type CancellationToken,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { codeActions } from "./actions";
import { complete } from "./completion";
import { buildContext, rootOf, type DocContext } from "./context";
import { diagnose } from "./diagnostics";
import { hover } from "./hover";
import { codeLenses, definition, prepareRename, references, rename, symbols } from "./navigation";
import { WorkspaceFiles } from "./workspaceFiles";

/** The `lathe.pipeline` settings, resolved for one document. */
export interface PipelineSettings {
  checkFiles: boolean;
}

const DEFAULT_SETTINGS: PipelineSettings = { checkFiles: true };

export class LatheLanguageServer {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly settings = new Map<string, Promise<PipelineSettings>>();
  private readonly contexts = new Map<string, { version: number; ctx: DocContext }>();
  private readonly workspaces = new Map<string, WorkspaceFiles>();
  private readonly latest = new Map<string, number>();
  private canAskSettings = false;

  constructor(private readonly connection: Connection) {
    connection.onInitialize((params): InitializeResult => {
      this.canAskSettings = params.capabilities.workspace?.configuration === true;
      return { capabilities, serverInfo: { name: "lathe-language-server" } };
    });
    connection.onDidChangeConfiguration(() => {
      this.settings.clear();
      this.refreshDiagnostics();
    });
    connection.onDidChangeWatchedFiles(() => {
      for (const files of this.workspaces.values()) {
        files.forget();
      }
      this.refreshDiagnostics();
    });
    this.documents.onDidClose((e) => {
      this.settings.delete(e.document.uri);
      this.contexts.delete(e.document.uri);
    });
    this.registerRequests();
    this.documents.listen(connection);
  }

  private registerRequests(): void {
    const c = this.connection;
    c.onCompletion((p) =>
      this.withContext(p.textDocument.uri, [], (ctx) => complete(ctx, p.position)),
    );
    c.onHover(async (p, token) => {
      const mine = this.bump("hover");
      await nextTurn();
      return this.isStale("hover", mine, token)
        ? null
        : this.withContext(p.textDocument.uri, null, (ctx) => hover(ctx, p.position));
    });
    c.onDefinition((p) =>
      this.withContext(p.textDocument.uri, [], (ctx) => definition(ctx, p.position)),
    );
    c.onReferences((p) =>
      this.withContext(p.textDocument.uri, [], (ctx) =>
        references(ctx, p.position, p.context.includeDeclaration),
      ),
    );
    c.onDocumentSymbol((p) => this.withContext(p.textDocument.uri, [], (ctx) => symbols(ctx)));
    c.onPrepareRename((p) =>
      this.withContext(p.textDocument.uri, null, (ctx) => prepareRename(ctx, p.position)),
    );
    c.onRenameRequest((p) =>
      this.withContext(p.textDocument.uri, null, (ctx) => rename(ctx, p.position, p.newName)),
    );
    c.onCodeLens((p) => this.withContext(p.textDocument.uri, [], (ctx) => codeLenses(ctx)));
    c.onCodeAction(async (p, token) => {
      const mine = this.bump("codeAction");
      await nextTurn();
      return this.isStale("codeAction", mine, token)
        ? []
        : this.withContext(p.textDocument.uri, [], (ctx) =>
            codeActions(ctx, p.context.diagnostics),
          );
    });
    c.languages.diagnostics.on(async (p, token) => {
      const uri = p.textDocument.uri;
      const settings = await this.settingsFor(uri);
      const items = token.isCancellationRequested
        ? []
        : this.withContext(uri, [], (ctx) => diagnose(ctx, settings));
      return { kind: DocumentDiagnosticReportKind.Full, items };
    });
  }

  /** Settings scoped to the document, asked once and cached until they change (STYLE 3.20). */
  settingsFor(uri: string): Promise<PipelineSettings> {
    let cached = this.settings.get(uri);
    if (!cached) {
      cached = this.canAskSettings
        ? this.connection.workspace
            .getConfiguration({ scopeUri: uri, section: "lathe.pipeline" })
            .then((s: Partial<PipelineSettings> | null) => ({ ...DEFAULT_SETTINGS, ...(s ?? {}) }))
            .catch(() => DEFAULT_SETTINGS)
        : Promise.resolve(DEFAULT_SETTINGS);
      this.settings.set(uri, cached);
    }
    return cached;
  }

  /** Runs `fn` on the document's analysis (built once per version); `fallback` when unknown. */
  private withContext<T>(uri: string, fallback: T, fn: (ctx: DocContext) => T): T {
    const document = this.documents.get(uri);
    if (!document) {
      return fallback;
    }
    let entry = this.contexts.get(uri);
    if (entry?.version !== document.version || entry.ctx.document !== document) {
      entry = { version: document.version, ctx: buildContext(document, this.filesFor(uri)) };
      this.contexts.set(uri, entry);
    }
    try {
      return fn(entry.ctx);
    } catch (err) {
      // A bug in one feature must not take the server down; the client logs the message.
      this.connection.console.error(
        `lathe.yaml analysis failed: ${(err as Error).stack ?? String(err)}`,
      );
      return fallback;
    }
  }

  private filesFor(uri: string): WorkspaceFiles | undefined {
    const root = rootOf(uri);
    if (root === undefined) {
      return undefined;
    }
    let files = this.workspaces.get(root);
    if (!files) {
      files = new WorkspaceFiles(root);
      this.workspaces.set(root, files);
    }
    return files;
  }

  private bump(kind: string): number {
    const next = (this.latest.get(kind) ?? 0) + 1;
    this.latest.set(kind, next);
    return next;
  }

  private isStale(kind: string, mine: number, token: CancellationToken): boolean {
    return token.isCancellationRequested || this.latest.get(kind) !== mine;
  }

  private refreshDiagnostics(): void {
    void this.connection.languages.diagnostics.refresh().catch(() => undefined);
  }
}

/** Lets requests already received run first, so a newer hover makes an older one stale. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const capabilities: InitializeResult["capabilities"] = {
  textDocumentSync: TextDocumentSyncKind.Incremental,
  completionProvider: { triggerCharacters: ["/", ".", "{", "[", ",", " "] },
  hoverProvider: true,
  definitionProvider: true,
  referencesProvider: true,
  documentSymbolProvider: true,
  renameProvider: { prepareProvider: true },
  codeLensProvider: { resolveProvider: false },
  codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
  diagnosticProvider: { interFileDependencies: true, workspaceDiagnostics: false },
};

/** Starts the server on a connection and listens. */
export function startServer(connection: Connection): LatheLanguageServer {
  const server = new LatheLanguageServer(connection);
  connection.listen();
  return server;
}
