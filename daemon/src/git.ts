/**
 * The git facts a run records: the HEAD commit and whether the workspace folder differs from it.
 * Uses the git CLI (isomorphic-git's status is far slower, DESIGN.md); both facts are null when
 * the workspace is not in a git repository or git is not installed.
 */
import { execFile } from "node:child_process";

export interface GitState {
  commit: string | null;
  dirty: boolean | null;
}

const GIT_TIMEOUT_MS = 10_000;

/**
 * `ignore` lists workspace-relative paths left out of the dirty check: Lathe's own state, the
 * lock file and the pipeline's outputs change with every repro and say nothing about the code.
 */
export async function gitState(root: string, ignore: string[] = []): Promise<GitState> {
  const head = await git(root, ["rev-parse", "--verify", "HEAD"]);
  if (head === null) {
    return { commit: null, dirty: null };
  }
  const excludes = [".lathe", "lathe.lock", ...ignore].map((p) => `:(exclude)${p}`);
  const status = await git(root, ["status", "--porcelain", "--", ".", ...excludes]);
  return { commit: head.trim(), dirty: status === null ? null : status.trim() !== "" };
}

/** stdout of a git command, or null when git is missing, fails, or this is not a repository. */
function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd, timeout: GIT_TIMEOUT_MS }, (err, stdout) => {
      resolve(err ? null : stdout);
    });
  });
}
