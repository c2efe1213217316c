/**
 * The edit that adds a missing params key (`train.momentum: null`) to its params file, written in
 * the file's own style: under the deepest section that exists, at the indentation of that
 * section's keys (or one step of the file's indentation below it), inside a flow mapping
 * (`train: {lr: 1}`) as `, momentum: null`, with JSON's quotes in a .json file, after a newline
 * when the file has no final one. The result is parsed before it is offered: when the small edit
 * does not give a file holding everything it held plus the new key, the whole file is written
 * again through `yaml`'s Document instead (comments kept, layout normalised), and when that fails
 * too there is no edit.
 */
import { isDeepStrictEqual } from "node:util";
import { isMap, isScalar, parseDocument, type Node, type YAMLMap } from "yaml";
import type { Position, TextEdit } from "vscode-languageserver";
import { keyText } from "./yamlNodes";

/** Adds `key` (dotted) with a null value to the params file `text`; undefined when it cannot. */
export function addKeyEdit(text: string, key: string, isJson: boolean): TextEdit | undefined {
  const doc = parseDocument(text);
  const parts = key.split(".");
  if (doc.errors.length > 0 || doc.hasIn(parts)) {
    return undefined;
  }
  const small = insertion(text, doc.contents, parts, isJson);
  if (small && holdsKey(text, apply(text, small), parts)) {
    return toTextEdit(text, small);
  }
  try {
    doc.setIn(parts, null);
  } catch {
    return undefined; // A step of the key holds a scalar or a list (`train: 5`).
  }
  const whole = { start: 0, end: text.length, newText: String(doc) };
  return holdsKey(text, whole.newText, parts) ? toTextEdit(text, whole) : undefined;
}

interface Insert {
  start: number;
  end: number;
  newText: string;
}

/** The smallest text that adds the key, or undefined when a step of it is not a mapping. */
function insertion(
  text: string,
  root: Node | null,
  parts: string[],
  isJson: boolean,
): Insert | undefined {
  const name = (part: string) =>
    isJson || !/^[A-Za-z_][\w-]*$/.test(part) ? JSON.stringify(part) : part;
  let section: Node | null = root;
  let depth = 0;
  let sectionKeyStart = -1;
  while (depth < parts.length - 1 && isMap(section)) {
    const pair = section.items.find((p) => keyText(p) === parts[depth]);
    if (!pair) {
      break;
    }
    const value = pair.value as Node | null;
    const isEmpty = value === null || (isScalar(value) && value.value === null && !value.source);
    if (!isMap(value) && !isEmpty) {
      return undefined; // `train: 5` cannot hold `train.lr`.
    }
    sectionKeyStart = (pair.key as Node).range![0];
    section = isEmpty ? null : value;
    depth++;
  }
  const rest = parts.slice(depth);
  if (isMap(section) && section.flow) {
    return inFlow(section, rest, name);
  }
  if (section !== null && !isMap(section)) {
    return undefined; // A document that is a list or a scalar.
  }
  return inBlock(text, section, sectionKeyStart, rest, name);
}

/** `, momentum: null` before the mapping's `}` (nested levels as flow mappings too). */
function inFlow(section: YAMLMap, rest: string[], name: (p: string) => string): Insert {
  const value = rest.reduceRight((inner, part, i) => {
    const pair = `${name(part)}: ${inner}`;
    return i === 0 ? pair : `{${pair}}`;
  }, "null");
  const last = section.items[section.items.length - 1];
  if (!last) {
    const at = section.range![0] + 1;
    return { start: at, end: at, newText: value };
  }
  const node = (last.value ?? last.key) as Node;
  const at = node.range![1];
  return { start: at, end: at, newText: `, ${value}` };
}

/** New lines after the section's last line, at its keys' indentation. */
function inBlock(
  text: string,
  section: YAMLMap | null,
  sectionKeyStart: number,
  rest: string[],
  name: (p: string) => string,
): Insert {
  const unit = indentUnit(text);
  const first = section?.items[0]?.key as Node | undefined;
  const indent = first
    ? columnOf(text, first.range![0])
    : sectionKeyStart < 0
      ? 0
      : columnOf(text, sectionKeyStart) + unit;
  const lines = rest.map(
    (part, i) =>
      `${" ".repeat(indent + i * unit)}${name(part)}:${i === rest.length - 1 ? " null" : ""}`,
  );
  const end = contentEnd(text, section, sectionKeyStart);
  const newline = text.indexOf("\n", end);
  if (newline < 0) {
    // The last line of a file without a final newline: keep it without one (an empty file
    // gets one).
    const newText = text.length > 0 ? `\n${lines.join("\n")}` : `${lines.join("\n")}\n`;
    return { start: text.length, end: text.length, newText };
  }
  return { start: newline + 1, end: newline + 1, newText: `${lines.join("\n")}\n` };
}

/** Where the section's text ends (its last value, or its key when it has none), spaces left out. */
function contentEnd(text: string, section: YAMLMap | null, sectionKeyStart: number): number {
  const last = section?.items[section.items.length - 1];
  const node = (last?.value ?? last?.key) as Node | undefined;
  let end = node?.range
    ? node.range[1]
    : sectionKeyStart >= 0
      ? text.indexOf(":", sectionKeyStart) + 1
      : text.length;
  while (end > 0 && /\s/.test(text[end - 1]!)) {
    end--;
  }
  return end;
}

/** The file's indentation step: the first indented key line's indentation, or 2. */
function indentUnit(text: string): number {
  const m = /^( +)[^\s#-]/m.exec(text);
  return m ? m[1]!.length : 2;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function apply(text: string, edit: Insert): string {
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}

/** The new text parses to what the old one held with the key added (as null), nothing else. */
function holdsKey(before: string, after: string, parts: string[]): boolean {
  const doc = parseDocument(after);
  if (doc.errors.length > 0) {
    return false;
  }
  const expected: unknown = parseDocument(before).toJSON() ?? {};
  let at = expected as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    const next = at[part];
    const child = isRecord(next) ? next : {};
    at[part] = child;
    at = child;
  }
  at[parts[parts.length - 1]!] = null;
  return isDeepStrictEqual(doc.toJSON(), expected);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function toTextEdit(text: string, edit: Insert): TextEdit {
  return {
    range: { start: positionAt(text, edit.start), end: positionAt(text, edit.end) },
    newText: edit.newText,
  };
}

function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}
