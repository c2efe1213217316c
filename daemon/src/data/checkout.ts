/**
 * `lathe checkout`: bring the data each pointer file names back from `.lathe/cache`, for the
 * pointers in the workspace or as a git revision holds them. Data already right is not touched;
 * data whose bytes would be lost (not in the cache) is only replaced with `force`.
 */
import { lstat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { DataCheckoutEntry } from "../../../schemas/api";
import { LatheError, toLatheError } from "../errors";
import { groundOf, groundText } from "../pipeline/reserved";
import { isWithin, realPlace, resolveInside, toWorkspacePath, type Workspace } from "../workspace";
import { ensureIgnored, ignoreLineFor } from "./gitignore";
import { hashBytes, hashFile } from "./hash";
import { objectExists } from "./objects";
import { POINTER_SUFFIX, parsePointer, readPointer, type Pointer } from "./pointer";
import { restorePath } from "./restore";
import { pointersAtRevision } from "./revision";
import { findPointers, type Hasher } from "./status";
import { showPath, walkPath } from "./tree";

export interface CheckoutOptions {
  /** Paths given by the user (absolute, inside the root), each with its text for messages. */
  targets?: { arg: string; abs: string }[];
  /** Take the pointer files from this git revision instead of the workspace. */
  rev?: string;
  /** Replace data even when its current bytes are not in the cache. */
  force?: boolean;
}

export interface CheckoutResult {
  entries: DataCheckoutEntry[];
  /** Why each `error` entry failed, for the caller's exit code (an invalid pointer is bad input). */
  errors: LatheError[];
}

/** A pointer file found, parsed when it is valid. */
interface Candidate {
  pointerAbs: string;
  /** Where its data goes; for an invalid pointer, its own path less `.lathe`. */
  dataAbs: string;
  pointer?: Pointer;
  error?: LatheError;
}

/**
 * Checks out every selected pointer's data; one entry per pointer, sorted by pointer path. A
 * pointer that fails is reported and the others are still checked out. Throws LATHE_BAD_INPUT, before touching anything, for a target that no pointer tracks.
 */
export async function checkoutData(
  ws: Workspace,
  hash: Hasher,
  options: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const candidates = options.rev
    ? await revisionCandidates(ws, options.rev)
    : await workspaceCandidates(ws);
  const selected = select(ws, candidates, options);

  const result: CheckoutResult = { entries: [], errors: [] };
  for (const candidate of selected) {
    result.entries.push(await checkoutOne(ws, candidate, hash, options.force ?? false, result));
  }
  return result;
}

async function workspaceCandidates(ws: Workspace): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  for (const file of await findPointers(ws.root)) {
    try {
      candidates.push(placed(ws, file, (await readPointer(file))!));
    } catch (err) {
      candidates.push(invalid(file, err));
    }
  }
  return candidates;
}

async function revisionCandidates(ws: Workspace, rev: string): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  for (const { rel, text } of await pointersAtRevision(ws, rev)) {
    const file = join(ws.root, rel);
    try {
      candidates.push(placed(ws, file, parsePointer(text, `${rev}:${rel}`)));
    } catch (err) {
      candidates.push(invalid(file, err));
    }
  }
  return candidates;
}

/**
 * Where a valid pointer's data goes, refused when it would leave the workspace or land on
 * Lathe's or git's own state. parsePointer already allows only a plain name beside the pointer;
 * this is the second lock on the same door.
 */
function placed(ws: Workspace, file: string, pointer: Pointer): Candidate {
  const pointerRel = toWorkspacePath(ws.root, file);
  const dataAbs = join(dirname(file), pointer.path);
  const refuse = (reason: string): never => {
    throw new LatheError(
      "LATHE_BAD_FILE",
      `${pointerRel}: field 'path' (${JSON.stringify(pointer.path)}) ${reason}; fix the pointer file or delete it.`,
      { file: pointerRel, field: "path", value: pointer.path },
    );
  };
  try {
    resolveInside(ws.root, dataAbs, "data path");
  } catch {
    refuse(`leads outside the workspace ${ws.root}`);
  }
  if (groundOf(toWorkspacePath(ws.root, dataAbs))) {
    refuse("names the workspace itself, .lathe/ or .git/, which checkout never writes");
  }
  return { pointerAbs: file, dataAbs, pointer };
}

function invalid(file: string, err: unknown): Candidate {
  const dataAbs = file.slice(0, -POINTER_SUFFIX.length);
  return { pointerAbs: file, dataAbs, error: toLatheError(err) };
}

/** The candidates the targets name (all of them without targets): data, pointer or a folder. */
function select(ws: Workspace, candidates: Candidate[], options: CheckoutOptions): Candidate[] {
  const targets = options.targets ?? [];
  if (targets.length === 0) {
    return candidates;
  }
  const names = (target: string, c: Candidate): boolean =>
    isWithin(target, c.dataAbs) || isWithin(target, c.pointerAbs);

  const untracked = targets.find((t) => !candidates.some((c) => names(t.abs, c)));
  if (untracked) {
    const where = options.rev ? `at revision ${options.rev}` : "in the workspace";
    const rel = toWorkspacePath(ws.root, untracked.abs) || ".";
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `Cannot check out '${untracked.arg}': no pointer file ${where} tracks ${rel} (there is no ${rel}${POINTER_SUFFIX}, nor one inside it); 'lathe status' lists what is versioned.`,
      { path: untracked.arg, rev: options.rev },
    );
  }
  return candidates.filter((c) => targets.some((t) => names(t.abs, c)));
}

async function checkoutOne(
  ws: Workspace,
  c: Candidate,
  hash: Hasher,
  force: boolean,
  result: CheckoutResult,
): Promise<DataCheckoutEntry> {
  const path = toWorkspacePath(ws.root, c.dataAbs);
  const pointerRel = toWorkspacePath(ws.root, c.pointerAbs);
  const entry = (action: DataCheckoutEntry["action"], message: string): DataCheckoutEntry => ({
    path,
    pointer: pointerRel,
    oid: c.pointer?.oid ?? null,
    action,
    message,
  });
  const failed = (error: LatheError): DataCheckoutEntry => {
    result.errors.push(error);
    return entry("error", error.message);
  };
  if (!c.pointer) {
    return failed(c.error ?? new LatheError("LATHE_BAD_FILE", `${pointerRel} is invalid.`));
  }
  const { oid } = c.pointer;
  const missing = () =>
    entry(
      "missing-object",
      `missing object: ${path} needs ${oid} (${pointerRel}), which is not in .lathe/cache; there is no remote yet, so only a 'lathe add' of those bytes in this workspace can store it`,
    );

  try {
    const existing = await lstat(c.dataAbs).catch(orUndefinedIfMissing);
    if (existing && (await hash(c.dataAbs)).oid === oid) {
      return entry("up-to-date", "up to date");
    }
    if (!(await objectExists(ws, oid))) {
      return missing();
    }
    const unstored = existing && !force ? await firstUnstored(ws, c.dataAbs) : undefined;
    if (unstored !== undefined) {
      const which = unstored === path ? "its bytes are" : `${unstored} is`;
      return entry(
        "refused",
        `refused: ${path} has changes no pointer records (${which} not in .lathe/cache); run 'lathe add ${path}' to keep them, or 'lathe checkout --force ${path}' to discard them`,
      );
    }

    checkRealFolderInside(ws, c.dataAbs, pointerRel);
    // A file keeps its executable bit: a blob's pointer records no mode (a tree's entries do).
    const executable = existing?.isFile() === true && (existing.mode & 0o100) !== 0;
    try {
      await restorePath(ws, oid, c.dataAbs, { executable });
    } catch (err) {
      // A tree whose own object is stored can still lack one of its entries.
      if (err instanceof LatheError && err.code === "LATHE_NOT_FOUND") {
        return missing();
      }
      throw err;
    }
    await ensureIgnored(dirname(c.dataAbs), ignoreLineFor(basename(c.dataAbs)));
    return entry("restored", `restored ${path} (${oid.slice(0, 12)})`);
  } catch (err) {
    return failed(toLatheError(err));
  }
}

/**
 * The folder the data goes into must really be in the workspace: at a git revision, `data/` may
 * hold a pointer while the workspace's `data` is a symlink to somewhere else (or to .lathe/).
 */
function checkRealFolderInside(ws: Workspace, abs: string, pointerRel: string): void {
  const place = realPlace(ws.root, dirname(abs));
  if (!place.inside) {
    throw new LatheError(
      "LATHE_FORBIDDEN",
      `${pointerRel}: its data's folder is a symlink to ${place.real}, outside the workspace ${ws.root}; refusing to write there.`,
      { file: pointerRel, link: place.link, target: place.real },
    );
  }
  const ground = place.link === undefined ? undefined : groundOf(`${place.rel}/${basename(abs)}`);
  if (ground) {
    throw new LatheError(
      "LATHE_FORBIDDEN",
      `${pointerRel}: through the symlink ${place.link}, its data ${groundText(ground)}; refusing to write there.`,
      { file: pointerRel, link: place.link, target: place.real },
    );
  }
}

function orUndefinedIfMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === "ENOENT") {
    return undefined; // Nothing there (yet).
  }
  throw err;
}

/**
 * The first file (or symlink) under `abs`, workspace-relative, whose bytes are not in the cache: replacing `abs`
 * would lose it. Undefined when every byte could be checked out again, as after a deletion
 * inside a folder or a switch to another committed version.
 */
async function firstUnstored(ws: Workspace, abs: string): Promise<string | undefined> {
  let found: string | undefined;
  await walkPath(abs, {
    file: async (file) => {
      const blob = await hashFile(file);
      if (found === undefined && !(await objectExists(ws, blob.oid))) {
        found = toWorkspacePath(ws.root, showPath(file));
      }
      return blob;
    },
    bytes: async (type, body) => {
      const oid = hashBytes(type, body);
      if (found === undefined && type === "blob" && !(await objectExists(ws, oid))) {
        found = `a symlink under ${toWorkspacePath(ws.root, abs)}`;
      }
      return oid;
    },
  });
  return found;
}
