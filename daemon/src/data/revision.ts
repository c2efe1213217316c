/**
 * Pointer files as a git revision holds them, for `lathe checkout --rev`: any data version that
 * was ever committed comes back from the cache. Uses the git CLI with argument arrays, no shell.
 */
import { execFile } from "node:child_process";
import { LatheError } from "../errors";
import type { Workspace } from "../workspace";
import { POINTER_SUFFIX } from "./pointer";

/** A pointer file's workspace-relative path and its text at the revision. */
export interface RevisionPointer {
  rel: string;
  text: string;
}

const GIT_TIMEOUT_MS = 30_000;
const SKIPPED_DIRS = new Set([".lathe", ".git", "node_modules"]);

/**
 * Every pointer file under the workspace root at `rev`, sorted, with its text. Throws
 * LATHE_BAD_INPUT when git is missing, the workspace is not in a repository or `rev` names no
 * commit.
 */
export async function pointersAtRevision(ws: Workspace, rev: string): Promise<RevisionPointer[]> {
  const commit = await resolveCommit(ws, rev);
  // Run in the workspace root, ls-tree lists only that folder, with paths relative to it.
  const listing = await git(ws.root, ["ls-tree", "-r", "-z", "--name-only", commit]);
  const rels = listing
    .split("\0")
    .filter((rel) => rel.endsWith(POINTER_SUFFIX) && !rel.split("/").some(isSkipped))
    .sort();

  const pointers: RevisionPointer[] = [];
  for (const rel of rels) {
    // `<commit>:./<path>` is relative to the current folder, not to the repository's top.
    const text = await git(ws.root, ["cat-file", "blob", `${commit}:./${rel}`]);
    pointers.push({ rel, text });
  }
  return pointers;
}

function isSkipped(segment: string): boolean {
  return SKIPPED_DIRS.has(segment);
}

async function resolveCommit(ws: Workspace, rev: string): Promise<string> {
  // A revision that starts with "-" would be read as an option.
  if (rev === "" || rev.startsWith("-")) {
    throw badRev(rev, "it is not a git revision");
  }
  try {
    await git(ws.root, ["rev-parse", "--is-inside-work-tree"]);
  } catch (err) {
    const reason = err instanceof LatheError ? String(err.data.detail) : String(err);
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `--rev ${rev}: ${ws.root} is not in a git repository (${reason}); --rev reads pointer files from git.`,
      { rev, root: ws.root },
    );
  }
  try {
    return (await git(ws.root, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])).trim();
  } catch {
    // git says nothing under --quiet; the message below says what it means.
    throw badRev(rev, "git knows no commit by that name (try 'git log --oneline')");
  }
}

function badRev(rev: string, reason: string): LatheError {
  return new LatheError("LATHE_BAD_INPUT", `--rev ${rev}: unknown revision: ${reason}.`, { rev });
}

/** stdout of a git command; a LatheError with git's first stderr line (`detail`) on failure. */
function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 256 << 20 };
    execFile("git", args, options, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      const detail =
        code === "ENOENT" ? "git is not installed" : stderr.split("\n")[0] || err.message;
      reject(
        new LatheError("LATHE_INTERNAL", `git ${args.join(" ")} failed: ${detail.trim()}`, {
          args,
          detail: detail.trim(),
        }),
      );
    });
  });
}
