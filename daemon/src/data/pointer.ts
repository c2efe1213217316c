/**
 * Pointer files: `<path>.lathe` beside a versioned file or folder, committed to git in place of
 * the data. YAML with `oid`, `size`, `files`, `kind` and `path` (relative to the pointer's folder,
 * so a pointer and its data move together).
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { LineCounter, isMap, parseDocument, stringify, type Node } from "yaml";
import { LatheError } from "../errors";
import type { PathHash } from "./tree";

export interface Pointer extends PathHash {
  path: string;
}

export const POINTER_SUFFIX = ".lathe";

const OID = /^[0-9a-f]{64}$/;

/** The pointer file for the data at `abs`. */
export function pointerPathFor(abs: string): string {
  return `${abs}${POINTER_SUFFIX}`;
}

/** Writes the pointer for the data at `abs`. */
export async function writePointer(abs: string, hash: PathHash): Promise<Pointer> {
  const pointer: Pointer = {
    oid: hash.oid,
    size: hash.size,
    files: hash.files,
    kind: hash.kind,
    path: basename(abs),
  };
  await writeFile(pointerPathFor(abs), stringify(pointer));
  return pointer;
}

/** Reads the pointer file `file`: undefined when there is none, LATHE_BAD_FILE when malformed. */
export async function readPointer(file: string): Promise<Pointer | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw err;
  }
  return parsePointer(text, file);
}

/** Parses and checks a pointer's text; errors name `file:line:column` and the field. */
export function parsePointer(text: string, file: string): Pointer {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const [yamlError] = doc.errors;
  if (yamlError) {
    const at = yamlError.linePos?.[0] ?? { line: 1, col: 1 };
    throw badPointer(
      `${file}:${at.line}:${at.col}`,
      "",
      `is not valid YAML: ${firstLine(yamlError.message)}`,
    );
  }
  if (!isMap(doc.contents)) {
    throw badPointer(
      `${file}:1:1`,
      "",
      "must be a YAML mapping with oid, size, files, kind and path",
    );
  }

  const check = (name: string, isValid: (v: unknown) => boolean, expected: string): unknown => {
    const node = doc.get(name, true) as Node | undefined;
    const at = lines.linePos(node?.range?.[0] ?? 0);
    const where = `${file}:${at.line}:${at.col}`;
    const value = doc.get(name);
    if (value === undefined) {
      throw badPointer(where, name, "is missing");
    }
    if (!isValid(value)) {
      throw badPointer(where, name, `is ${JSON.stringify(value)}; expected ${expected}`, value);
    }
    return value;
  };
  return {
    oid: check("oid", (v) => typeof v === "string" && OID.test(v), "64 hex digits"),
    size: check("size", isCount, "a whole number of bytes"),
    files: check("files", isCount, "a whole number"),
    kind: check("kind", (v) => v === "file" || v === "dir", "'file' or 'dir'"),
    path: check("path", isPlainName, "a file or folder name beside the pointer"),
  } as Pointer;
}

/** yaml's messages end with the line and a caret; our prefix already says where. */
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isPlainName(value: unknown): boolean {
  return (
    typeof value === "string" &&
    value !== "" &&
    value !== "." &&
    value !== ".." &&
    !/[/\0]/.test(value)
  );
}

/** `where` is `file:line:column`. */
function badPointer(where: string, name: string, problem: string, value?: unknown): LatheError {
  const what = name ? `field '${name}'` : "pointer file";
  return new LatheError(
    "LATHE_BAD_FILE",
    `${where}: ${what} ${problem}. Fix it, or delete it and run 'lathe add' again.`,
    { file: where, field: name || undefined, value },
  );
}
