/**
 * The files a pipeline's diagnostics were checked against, and the client's watchers for them.
 * The server registers the watchers itself (`workspace/didChangeWatchedFiles` with dynamic
 * registration), so that any client, the extension's or an editor running `lathe lsp --stdio`,
 * reports a change to a dep, a params or vars file, a pointer or lathe.lock. One registration
 * covers every open pipeline; it is replaced when the set of files changes.
 */
import { pathToFileURL } from "node:url";
import type {
  DidChangeWatchedFilesClientCapabilities,
  FileSystemWatcher,
} from "vscode-languageserver";
import { DEFAULT_PARAMS_FILE } from "./analysis";
import type { DocContext } from "./context";
import type { EngineResult } from "./engineCheck";
import { LOCK_FILE } from "../../../daemon/src/pipeline/lock";
import { varsFiles } from "./varsSection";

/** Workspace paths whose creation, change or deletion can change the document's diagnostics. */
export function watchedFiles(ctx: DocContext, engine: EngineResult | undefined): string[] {
  const files = new Set<string>([LOCK_FILE, DEFAULT_PARAMS_FILE, ...(engine?.reads ?? [])]);
  const dep = (wsPath: string) => {
    // The dep, or a pointer standing for it (see missingDepReason).
    files.add(wsPath).add(`${wsPath}.lathe`).add(`${wsPath}.dvc`);
  };
  for (const stage of ctx.model.stages) {
    if (stage.wdir) {
      files.add(stage.wdir);
    }
    stage.deps.forEach((d) => d.wsPath !== undefined && dep(d.wsPath));
    stage.params.forEach((p) => files.add(p.file));
    stage.paramFiles.forEach((p) => files.add(p.file));
  }
  varsFiles(ctx.model.varsEntries).forEach((file) => files.add(file));
  // Stages the engine generated (foreach, matrix, `${…}` in paths) name files the text does not.
  for (const stage of engine?.pipeline?.stages ?? []) {
    if (stage.wdir) {
      files.add(stage.wdir);
    }
    stage.deps.forEach((d) => dep(d.wsPath));
    stage.params.forEach((p) => files.add(p.file));
  }
  files.delete(".");
  files.delete("");
  return [...files];
}

/** Sends `client/registerCapability` and `client/unregisterCapability` for a watcher set. */
export interface WatchRequests {
  register(id: string, watchers: FileSystemWatcher[]): Promise<void>;
  unregister(id: string): Promise<void>;
}

export class Watches {
  private supported = false;
  private relativePatterns = false;
  private started = false;
  private readonly byUri = new Map<string, { root: string; files: string[] }>();
  private registered = "";
  private serial = 0;
  /** The id of the current registration, once every earlier one was replaced (in order). */
  private current: Promise<string | undefined> = Promise.resolve(undefined);

  constructor(
    private readonly requests: WatchRequests,
    private readonly onError: (err: unknown) => void,
  ) {}

  // FIXME(#4): a client that cannot register watchers (no dynamicRegistration) hears of no file
  // change but its own static ones (the extension's); the server should then watch these files
  // itself (fs.watch on their folders) and refresh as it does on workspace/didChangeWatchedFiles.
  configure(capability: DidChangeWatchedFilesClientCapabilities | undefined): void {
    this.supported = capability?.dynamicRegistration === true;
    this.relativePatterns = capability?.relativePatternSupport === true;
  }

  /** Registration is allowed once the client said `initialized`. */
  start(): void {
    this.started = true;
    this.sync();
  }

  /** False when the client cannot be asked to watch: then there is nothing to compute. */
  get enabled(): boolean {
    return this.supported;
  }

  /** The files one document depends on (undefined when it closed or has no folder). */
  set(uri: string, entry: { root: string; files: string[] } | undefined): void {
    const before = this.byUri.get(uri);
    if (before && entry && before.root === entry.root && sameList(before.files, entry.files)) {
      return; // The usual case after an edit: nothing to register again.
    }
    if (entry) {
      this.byUri.set(uri, entry);
    } else {
      this.byUri.delete(uri);
    }
    this.sync();
  }

  private sync(): void {
    if (!this.supported || !this.started) {
      return;
    }
    const watchers = this.watchers();
    const key = JSON.stringify(watchers);
    if (key === this.registered) {
      return;
    }
    this.registered = key;
    const id = `lathe-watch-${++this.serial}`;
    this.current = this.current.then(async (previous) => {
      try {
        if (previous) {
          await this.requests.unregister(previous);
        }
        if (watchers.length === 0) {
          return undefined;
        }
        await this.requests.register(id, watchers);
        return id;
      } catch (err) {
        this.onError(err);
        return undefined;
      }
    });
  }

  /** One watcher per workspace folder, naming all its files. */
  private watchers(): FileSystemWatcher[] {
    const byRoot = new Map<string, Set<string>>();
    for (const { root, files } of this.byUri.values()) {
      const set = byRoot.get(root) ?? new Set<string>();
      files.forEach((f) => set.add(f));
      byRoot.set(root, set);
    }
    return [...byRoot]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([root, set]) => {
        const files = [...set].sort().map(literalGlob);
        const pattern = files.length === 1 ? files[0]! : `{${files.join(",")}}`;
        return {
          globPattern: this.relativePatterns
            ? { baseUri: pathToFileURL(root).toString(), pattern }
            : `${literalGlob(root.replace(/\\/g, "/"))}/${pattern}`,
        };
      });
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A path as a glob matching itself: a character glob syntax would read matches any one character. */
function literalGlob(path: string): string {
  return path.replace(/[{}[\],*?]/g, "?");
}
