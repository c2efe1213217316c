/**
 * What the language server knows about the workspace on disk: whether a path exists, its size,
 * folder listings for path completion, and params files parsed with the position of every key.
 * Params files are cached by mtime and size; `forget` drops everything when the client reports a
 * file change.
 */
import { readFileSync, readdirSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { LineCounter, isMap, isScalar, parseDocument, type Node } from "yaml";
import { keyText, spanOf, type Span } from "./yamlNodes";

export interface ParamKey {
  /** Dotted key. */
  key: string;
  value: unknown;
  /** The value as written (`1.0`, not `1`) for scalars; JSON for lists and mappings. */
  display: string;
  /** The key's span in the params file. */
  span: Span;
  /** 0-based line and character of the key. */
  line: number;
  character: number;
  /** Whether the value is a mapping (its keys are listed too). */
  isMapping: boolean;
}

export interface ParamsFile {
  /** Workspace-relative. */
  file: string;
  abs: string;
  text: string;
  keys: Map<string, ParamKey>;
  data: unknown;
}

const SKIPPED_DIRS = new Set([".git", ".lathe", "node_modules", ".dvc", "__pycache__"]);

export class WorkspaceFiles {
  /**
   * @param params parsed params files by workspace path, checked against mtime and size.
   * @param stats stat results memoised for one analysis (a snapshot), so that 1,000 deps naming
   *   the same folders cost one `stat` each.
   */
  constructor(
    readonly root: string,
    private readonly params = new Map<string, { stamp: string; parsed: ParamsFile | undefined }>(),
    private readonly stats?: Map<string, Stats | undefined>,
  ) {}

  /** A view for one analysis: same params cache, stats memoised until the next snapshot. */
  snapshot(): WorkspaceFiles {
    return new WorkspaceFiles(this.root, this.params, new Map());
  }

  forget(): void {
    this.params.clear();
    this.stats?.clear();
  }

  stat(wsPath: string): Stats | undefined {
    if (this.stats?.has(wsPath)) {
      return this.stats.get(wsPath);
    }
    let stat: Stats | undefined;
    try {
      stat = statSync(join(this.root, wsPath), { throwIfNoEntry: false });
    } catch {
      stat = undefined;
    }
    this.stats?.set(wsPath, stat);
    return stat;
  }

  exists(wsPath: string): boolean {
    return this.stat(wsPath) !== undefined;
  }

  /** Entries of a workspace folder: names with a trailing `/` for folders; [] when missing. */
  list(wsDir: string): string[] {
    try {
      return readdirSync(join(this.root, wsDir), { withFileTypes: true })
        .filter((e) => !SKIPPED_DIRS.has(e.name))
        .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
        .sort();
    } catch {
      return [];
    }
  }

  /** The params file parsed with key positions, or undefined when it does not exist. */
  paramsFile(file: string): ParamsFile | undefined {
    const abs = join(this.root, file);
    const stat = this.stat(file);
    if (!stat?.isFile()) {
      this.params.delete(file);
      return undefined;
    }
    const stamp = `${stat.mtimeMs}:${stat.size}`;
    const cached = this.params.get(file);
    if (cached?.stamp === stamp) {
      return cached.parsed;
    }
    const parsed = parseParams(file, abs, readFileSync(abs, "utf8"));
    this.params.set(file, { stamp, parsed });
    return parsed;
  }
}

export function parseParams(file: string, abs: string, text: string): ParamsFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const keys = new Map<string, ParamKey>();
  const walk = (node: Node | null, prefix: string) => {
    if (!isMap(node)) {
      return;
    }
    for (const pair of node.items) {
      const name = keyText(pair);
      if (name === undefined) {
        continue;
      }
      const key = prefix ? `${prefix}.${name}` : name;
      const span = spanOf(pair.key);
      const pos = lines.linePos(span.start);
      const value = pair.value as Node | null;
      const json: unknown = value ? value.toJSON() : null;
      keys.set(key, {
        key,
        value: json,
        display:
          isScalar(value) && value.range
            ? text.slice(value.range[0], value.range[1])
            : valueText(json),
        span,
        line: pos.line - 1,
        character: pos.col - 1,
        isMapping: isMap(value),
      });
      walk(value, key);
    }
  };
  walk(doc.contents, "");
  return { file, abs, text, keys, data: doc.toJSON() };
}

/** A param value as shown in a completion's detail or a hover. */
export function valueText(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value);
  }
  if (value !== null && typeof value === "object") {
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 57)}…` : json;
  }
  return String(value);
}
