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
  private canAskSettings = false;
  private itemDefaults = false;

  constructor(private readonly connection: Connection) {
    connection.onInitialize((params): InitializeResult => {
      this.canAskSettings = params.capabilities.workspace?.configuration === true;
      const completion = params.capabilities.textDocument?.completion;
      this.itemDefaults = completion?.completionList?.itemDefaults?.includes("editRange") === true;
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
      this.contexts.clear();
      this.refreshDiagnostics();
    });
    this.documents.onDidClose((e) => {
      this.settings.delete(e.document.uri);
      this.contexts.delete(e.document.uri);
      this.analysers.delete(e.document.uri);
      this.engines.delete(e.document.uri);
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

  /** The document's problems: the analysis's, then what the engine refuses besides. */
  private diagnostics(uri: string, settings: PipelineSettings): Diagnostic[] {
    let engine = this.engines.get(uri);
    if (!engine) {
      engine = new EngineChecker();
      this.engines.set(uri, engine);
    }
    return this.withContext(uri, [], (ctx) => diagnose(ctx, settings, engine));
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

  private refreshDiagnostics(): void {
    void this.connection.languages.diagnostics.refresh().catch(() => undefined);
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
