/**
 * Where the cursor is in the pipeline, read from the lines around it rather than from the AST,
 * so it works while the YAML is half typed: the path of mapping keys above the cursor and whether
 * the cursor is on a key, a value or a list item (block `- x` or flow `[a, x`).
 */
export type CursorKind = "key" | "value" | "item";

export interface Cursor {
  kind: CursorKind;
  /** Keys from the root to the container, e.g. ["stages", "train", "params"]. */
  path: string[];
  /** The word being typed, up to the cursor. */
  prefix: string;
  /** Offset where `prefix` starts (the completion's replace range starts here). */
  prefixStart: number;
  /** Set when the cursor is inside `${…`. */
  inVar: boolean;
}

const KEY_LINE = /^(\s*)(?:-\s+)?([^\s:#'"{}[\],-][^:#{}[\],]*?|"[^"]*"|'[^']*'):(\s|$)/;

export function cursorAt(text: string, offset: number): Cursor {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const lines = new LinesAbove(text, lineStart);

  const varOpen = before.lastIndexOf("${");
  if (varOpen >= 0 && !before.slice(varOpen).includes("}")) {
    const prefix = before.slice(varOpen + 2);
    return { kind: "value", path: [], prefix, prefixStart: offset - prefix.length, inVar: true };
  }

  const flow = flowContext(before);
  if (flow) {
    const path = [...ancestors(lines, flow.indent, false), ...flow.keys];
    return {
      kind: "item",
      path,
      prefix: flow.prefix,
      prefixStart: offset - flow.prefix.length,
      inVar: false,
    };
  }
  const item = /^(\s*)-\s+(.*)$/.exec(before) ?? /^(\s*)-()$/.exec(before);
  if (item && !/:\s/.test(item[2]!)) {
    const path = ancestors(lines, item[1]!.length, true);
    const prefix = item[2]!;
    return { kind: "item", path, prefix, prefixStart: offset - prefix.length, inVar: false };
  }
  const keyValue = KEY_LINE.exec(before);
  if (keyValue) {
    const indent =
      keyValue[1]!.length +
      (/^\s*-\s+/.test(before) ? before.indexOf("-") + 2 - keyValue[1]!.length : 0);
    const prefix = before.slice(keyValue[0].length).trimStart();
    const path = [...ancestors(lines, indent, false), unquote(keyValue[2]!)];
    return { kind: "value", path, prefix, prefixStart: offset - prefix.length, inVar: false };
  }
  const key = /^(\s*)(-\s+)?([\w.@-]*)$/.exec(before);
  if (key) {
    const indent = key[1]!.length + (key[2]?.length ?? 0);
    const prefix = key[3]!;
    return {
      kind: "key",
      path: ancestors(lines, indent, false),
      prefix,
      prefixStart: offset - prefix.length,
      inVar: false,
    };
  }
  return { kind: "value", path: [], prefix: "", prefixStart: offset, inVar: false };
}

/**
 * The lines above the cursor, last first, read lazily: in a 3,000-line file the walk up to a
 * stage's key must not split the whole text on every keystroke.
 */
class LinesAbove {
  constructor(
    private readonly text: string,
    private readonly end: number,
  ) {}

  *reversed(): Generator<string> {
    let end = this.end - 1; // the newline before the cursor's line
    while (end >= 0) {
      const start = this.text.lastIndexOf("\n", end - 1) + 1;
      yield this.text.slice(start, end);
      end = start - 1;
    }
  }
}

/** The keys of the lines above with less indentation than `column`, root first. */
function ancestors(lines: LinesAbove, column: number, item: boolean): string[] {
  const path: string[] = [];
  let limit = column;
  let allowEqual = item;
  for (const line of lines.reversed()) {
    if (limit <= 0) {
      break;
    }
    const indent = line.length - line.trimStart().length;
    // Most lines are deeper than the key being looked for: skip them before any regex.
    if (indent > limit || (indent === limit && !allowEqual) || /^\s*(#.*)?$/.test(line)) {
      continue;
    }
    const m = KEY_LINE.exec(line);
    const isItem = /^\s*-(\s|$)/.test(line);
    if (
      indent < limit ||
      (allowEqual && indent === limit && m && !isItem && /:\s*(#.*)?$/.test(line))
    ) {
      if (m) {
        path.push(unquote(m[2]!));
      }
      limit = indent;
      allowEqual = false;
      if (isItem) {
        // `- key:` opens a mapping inside a list item; the list's own key is further up.
        allowEqual = true;
      }
    }
  }
  return path.reverse();
}

/** `deps: [a, b` or `params: [x, {other.yaml: [y` on the cursor's line. */
function flowContext(
  before: string,
): { indent: number; keys: string[]; prefix: string } | undefined {
  const open = /^(\s*)(?:-\s+)?([^\s:#'"{}[\],-][^:#{}[\],]*?):\s*\[(.*)$/.exec(before);
  if (!open) {
    return undefined;
  }
  const rest = open[3]!;
  let depth = 0;
  for (const ch of rest) {
    depth += ch === "[" || ch === "{" ? 1 : ch === "]" || ch === "}" ? -1 : 0;
    if (depth < 0) {
      return undefined;
    }
  }
  const indent = before.length - before.trimStart().length;
  const keys = [open[2]!.trim()];
  const nested = /\{\s*([^:{}[\],]+?)\s*:\s*\[([^\]]*)$/.exec(rest);
  if (nested) {
    keys.push(nested[1]!);
  }
  const prefix = /([^[,{\s]*)$/.exec(rest)![1]!;
  return { indent, keys, prefix };
}

function unquote(key: string): string {
  return key.replace(/^(["'])(.*)\1$/, "$2").trim();
}
