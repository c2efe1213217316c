/**
 * The lathe.yaml language server: one object built around a connection passed in (STYLE 3.20), so
 * the editor's stdio/IPC connection and the tests' in-process one run the same code. Documents are
 * analysed once per version; settings are asked per document and cached until the configuration
 * changes or the document closes; hovers and code actions lose to newer ones instead of queueing.
 *
 * Diagnostics depend on files besides the document (deps, params and vars files, pointers,
 * lathe.lock): the server asks the client to watch exactly those (watches.ts) and, when one
 * changes, asks a client that pulls diagnostics to pull again, or pushes them to one that does not.
 */
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  ConnectionError,
  DidChangeWatchedFilesNotification,
  DocumentDiagnosticReportKind,
  ErrorCodes,
  RegistrationRequest,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  UnregistrationRequest,
  type CancellationToken,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type Range,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { codeActions } from "./actions";
import { Analyser } from "./analysis";
import { complete } from "./completion";
import { limitItems, type LimitedItems } from "./completionLimit";
import { buildContext, rootOf, type DocContext } from "./context";
import { diagnose } from "./diagnostics";
import { EngineChecker } from "./engineCheck";
import { hover } from "./hover";
import { codeLenses, definition, prepareRename, references, rename, symbols } from "./navigation";
import { watchedFiles, Watches } from "./watches";
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
  private readonly analysers = new Map<string, Analyser>();
  private readonly engines = new Map<string, EngineChecker>();
  private readonly workspaces = new Map<string, WorkspaceFiles>();
  private readonly latest = new Map<string, number>();
  private readonly pushTimers = new Map<string, NodeJS.Timeout>();
  private readonly watches: Watches;
  private canAskSettings = false;
  private canRefreshLenses = false;
  private itemDefaults = false;
  /** The client pulls diagnostics (textDocument/diagnostic); else the server publishes them. */
  private pull = false;
  private canRefresh = false;

  constructor(private readonly connection: Connection) {
    const method = DidChangeWatchedFilesNotification.method;
    this.watches = new Watches(
      {
        register: async (id, watchers) => {
          const registerOptions = { watchers };
          await connection.sendRequest(RegistrationRequest.type, {
            registrations: [{ id, method, registerOptions }],
          });
        },
        unregister: async (id) => {
          await connection.sendRequest(UnregistrationRequest.type, {
            unregisterations: [{ id, method }],
          });
        },
      },
      (err) => this.report("could not register file watchers", err),
    );
    connection.onInitialize((params): InitializeResult => {
      const { workspace, textDocument } = params.capabilities;
      this.canAskSettings = workspace?.configuration === true;
      const completion = textDocument?.completion;
      this.canRefreshLenses = workspace?.codeLens?.refreshSupport === true;
      this.itemDefaults = completion?.completionList?.itemDefaults?.includes("editRange") === true;
      this.pull = textDocument?.diagnostic !== undefined;
      this.canRefresh = workspace?.diagnostics?.refreshSupport === true;
      this.watches.configure(workspace?.didChangeWatchedFiles);
      return { capabilities, serverInfo: { name: "lathe-language-server" } };
    });
    connection.onInitialized(() => this.watches.start());
    connection.onDidChangeConfiguration(() => {
      this.settings.clear();
      this.refreshDiagnostics();
    });
    connection.onDidChangeWatchedFiles(() => {
      for (const files of this.workspaces.values()) {
        files.forget();
      }
      this.contexts.clear();
      this.refreshDiagnostics();
      // The stages' state lenses read lathe.lock, params files and pointers.
      if (this.canRefreshLenses) {
        void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
      }
    });
    this.documents.onDidChangeContent((e) => {
      if (!this.pull) {
        this.schedulePush(e.document.uri);
      }
    });
    this.documents.onDidClose((e) => {
      const uri = e.document.uri;
      this.settings.delete(uri);
      this.contexts.delete(uri);
      this.analysers.delete(uri);
      this.engines.delete(uri);
      this.watches.set(uri, undefined);
      clearTimeout(this.pushTimers.get(uri));
      this.pushTimers.delete(uri);
      if (!this.pull) {
        void connection.sendDiagnostics({ uri, diagnostics: [] });
      }
    });
    this.registerRequests();
    this.documents.listen(connection);
  }

  private registerRequests(): void {
    const c = this.connection;
    c.onCompletion((p) =>
      this.withContext(p.textDocument.uri, [], (ctx) =>
        compact(limitItems(...typedAt(ctx, complete(ctx, p.position))), this.itemDefaults),
      ),
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
      const items = token.isCancellationRequested ? [] : this.diagnostics(uri, settings);
      return { kind: DocumentDiagnosticReportKind.Full, items };
    });
  }

  /** The document's problems; the files they were checked against become the watched ones. */
  private diagnostics(uri: string, settings: PipelineSettings): Diagnostic[] {
    let engine = this.engines.get(uri);
    if (!engine) {
      engine = new EngineChecker((err) =>
        this.connection.console.error(
          `lathe.yaml engine check failed: ${(err as Error).stack ?? String(err)}`,
        ),
      );
      this.engines.set(uri, engine);
    }
    return this.withContext(uri, [], (ctx) => {
      const items = diagnose(ctx, settings, engine);
      const root = ctx.files?.root;
      if (this.watches.enabled) {
        const files =
          root === undefined ? undefined : { root, files: watchedFiles(ctx, engine.last) };
        this.watches.set(uri, files);
      }
      return items;
    });
  }

  /** Publishes the document's diagnostics soon (for a client that does not pull them). */
  private schedulePush(uri: string): void {
    clearTimeout(this.pushTimers.get(uri));
    const timer = setTimeout(() => {
      this.pushTimers.delete(uri);
      this.push(uri).catch((err: unknown) => this.report("could not publish diagnostics", err));
    }, PUSH_DELAY_MS);
    this.pushTimers.set(uri, timer);
  }

  private async push(uri: string): Promise<void> {
    const settings = await this.settingsFor(uri);
    const document = this.documents.get(uri);
    if (!document) {
      return; // Closed meanwhile: its diagnostics were cleared.
    }
    const diagnostics = this.diagnostics(uri, settings);
    await this.connection.sendDiagnostics({ uri, version: document.version, diagnostics });
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
      let analyser = this.analysers.get(uri);
      if (!analyser) {
        analyser = new Analyser();
        this.analysers.set(uri, analyser);
      }
      entry = {
        version: document.version,
        ctx: buildContext(document, this.filesFor(uri)?.snapshot(), analyser),
      };
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

  /** Logs a failed message to the client, unless the failure is that the client is gone. */
  private report(what: string, err: unknown): void {
    const gone =
      err instanceof ConnectionError ||
      (err instanceof ResponseError &&
        (err.code === ErrorCodes.PendingResponseRejected ||
          err.code === ErrorCodes.ConnectionInactive));
    if (!gone) {
      this.connection.console.error(`${what}: ${String(err)}`);
    }
  }

  /** After a change to settings or files: ask for a pull, or push to a client that does not pull. */
  private refreshDiagnostics(): void {
    if (!this.pull) {
      this.documents.keys().forEach((uri) => this.schedulePush(uri));
    } else if (this.canRefresh) {
      this.connection.languages.diagnostics
        .refresh()
        .catch((err: unknown) => this.report("workspace/diagnostic/refresh failed", err));
    }
  }
}

/**
 * A long list (1,500 params keys) shares one edit range through `itemDefaults` when the client
 * supports it, which halves the message.
 */
function compact(
  { items, isIncomplete }: LimitedItems,
  itemDefaults: boolean,
): CompletionItem[] | CompletionList {
  const range =
    items[0]?.textEdit && "range" in items[0].textEdit ? items[0].textEdit.range : undefined;
  const plain = isIncomplete ? { isIncomplete, items } : items;
  if (!itemDefaults || items.length < 50 || !range) {
    return plain;
  }
  const same = (r: Range) =>
    r.start.line === range.start.line &&
    r.start.character === range.start.character &&
    r.end.line === range.end.line &&
    r.end.character === range.end.character;
  if (!items.every((i) => i.textEdit && "range" in i.textEdit && same(i.textEdit.range))) {
    return plain;
  }
  return {
    isIncomplete,
    itemDefaults: { editRange: range },
    items: items.map(({ textEdit, ...item }) =>
      textEdit!.newText === item.label ? item : { ...item, textEditText: textEdit!.newText },
    ),
  };
}

/** The items with the text they replace (what is typed of the word, from their edit range). */
function typedAt(ctx: DocContext, items: CompletionItem[]): [CompletionItem[], string] {
  const edit = items[0]?.textEdit;
  if (!edit || !("range" in edit)) {
    return [items, ""];
  }
  return [items, ctx.document.getText(edit.range)];
}

/** Pushed diagnostics wait this long after a keystroke, so that a burst of edits is checked once. */
const PUSH_DELAY_MS = 50;

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
