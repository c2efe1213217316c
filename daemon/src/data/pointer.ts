/**
 * Pointer files: `<path>.lathe` beside a versioned file or folder, committed to git in place of
 * the data. YAML with `oid`, `size`, `files`, `kind` and `path` (relative to the pointer's folder,
 * so a pointer and its data move together).
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { parse, stringify } from "yaml";
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

/** Parses and checks a pointer's text; `file` names it in errors. */
export function parsePointer(text: string, file: string): Pointer {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw badPointer(file, "", `is not valid YAML (${(err as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw badPointer(file, "", "must be a YAML mapping with oid, size, files, kind and path");
  }
  const fields = doc as Record<string, unknown>;
  return {
    oid: field(fields, "oid", file, (v) => typeof v === "string" && OID.test(v), "64 hex digits"),
    size: field(fields, "size", file, isCount, "a whole number of bytes"),
    files: field(fields, "files", file, isCount, "a whole number"),
    kind: field(fields, "kind", file, (v) => v === "file" || v === "dir", "'file' or 'dir'"),
    path: field(fields, "path", file, isPlainName, "a file or folder name beside the pointer"),
  } as Pointer;
}

function field(
  fields: Record<string, unknown>,
  name: string,
  file: string,
  isValid: (value: unknown) => boolean,
  expected: string,
): unknown {
  const value = fields[name];
  if (value === undefined) {
    throw badPointer(file, name, "is missing");
  }
  if (!isValid(value)) {
    throw badPointer(file, name, `is ${JSON.stringify(value)}; expected ${expected}`, value);
  }
  return value;
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

function badPointer(file: string, name: string, problem: string, value?: unknown): LatheError {
  const what = name ? `field '${name}'` : "content";
  return new LatheError(
    "LATHE_BAD_FILE",
    `Pointer file ${file}: ${what} ${problem}. Fix it, or delete it and run 'lathe add' again.`,
    { file, field: name || undefined, value },
  );
}
