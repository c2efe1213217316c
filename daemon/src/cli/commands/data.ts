/**
 * `lathe init`, `lathe add <path...>`, `lathe checkout [path...]` and `lathe hash <path>`: data
 * versioning (issue #2).
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { closeContext, openContext } from "../../context";
import type { DataCheckoutEntry } from "../../../../schemas/api";
import { addPath, type AddResult } from "../../data/add";
import { checkoutData } from "../../data/checkout";
import { hashPath } from "../../data/hash";
import { initWorkspace, type InitResult } from "../../data/init";
import { LatheError } from "../../errors";
import { HashCache } from "../../pipeline/hashcache";
import { checkNotReserved } from "../../services/add-guard";
import { resolveInside, toWorkspacePath, workspaceAt, type Workspace } from "../../workspace";
import { action, globals, print, workspaceFor } from "../output";

export function registerDataCommands(program: Command): void {
  program
    .command("init")
    .description("make this folder (or --root) a Lathe workspace: .lathe/, kept out of git")
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        // Like `git init`: the current folder, not a workspace found further up.
        const ws = workspaceAt(resolve(globals(cmd).root ?? process.cwd()));
        const result = await initWorkspace(ws);
        print(cmd, result, () => initText(result));
      }),
    );

  program
    .command("add")
    .description("version files or folders: store them, write <path>.lathe, git-ignore the data")
    .argument("<paths...>", "files or folders inside the workspace")
    .action(
      action(async (paths: string[], _opts: unknown, cmd: Command) => {
        const ws = workspaceFor(cmd);
        const targets = paths.map((p) => userPath(ws, p, "add"));
        // Checked for every path first, so a refused one leaves the others unadded too.
        checkNotReserved(
          ws.root,
          targets.map((abs) => toWorkspacePath(ws.root, abs)),
        );
        const added: AddResult[] = [];
        // The workspace's hash cache makes re-adding unchanged data a stat per file.
        const ctx = openContext(ws.root, { quiet: true });
        try {
          const hashes = new HashCache(ctx.db);
          for (const abs of targets) {
            added.push(await addPath(ws, abs, (p) => hashes.hashPath(p)));
          }
        } finally {
          closeContext(ctx);
        }
        print(cmd, { added }, () => addText(added));
      }),
    );

  program
    .command("checkout")
    .description(
      "restore versioned data from .lathe/cache as its pointer files (or --rev's) name it",
    )
    .argument("[paths...]", "data, pointer files or folders holding them (default: all)")
    .option("--rev <revision>", "take the pointer files from this git revision")
    .option("-f, --force", "overwrite data whose changes are not in .lathe/cache")
    .action(action(checkoutCommand));

  program
    .command("hash")
    .description("print the id of a file or folder (as git hash-object / write-tree, SHA-256)")
    .argument("<path>", "a file or folder")
    .action(
      action(async (path: string, _opts: unknown, cmd: Command) => {
        const { oid, size, files, kind } = await hashPath(resolve(process.cwd(), path));
        print(cmd, { oid, size, files, kind }, () => oid);
      }),
    );
}

/**
 * `lathe checkout`. Exit codes: 0 when every path is checked out or up to date; 1 when a path was
 * refused (local changes, no --force) or its object is missing from the cache; 2 for bad input
 * (a path no pointer tracks, an unknown --rev, an invalid pointer file). Every other path is
 * still checked out before the exit code is set.
 */
async function checkoutCommand(
  paths: string[],
  opts: { rev?: string; force?: boolean },
  cmd: Command,
): Promise<void> {
  const ws = workspaceFor(cmd);
  const targets = paths.map((arg) => ({ arg, abs: userPath(ws, arg, "check out") }));
  const ctx = openContext(ws.root, { quiet: true });
  let result;
  try {
    const hashes = new HashCache(ctx.db);
    result = await checkoutData(ws, (p) => hashes.hashPath(p), { ...opts, targets });
  } finally {
    closeContext(ctx);
  }
  const { entries, errors } = result;
  print(cmd, entries, () => checkoutText(entries));

  const [firstError] = errors;
  if (firstError) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new LatheError(firstError.code, `checkout failed: ${firstError.message}${more}`, {
      ...firstError.data,
      errors: errors.length,
    });
  }
  const unfinished = entries.filter((e) => e.action === "refused" || e.action === "missing-object");
  if (unfinished.length > 0) {
    throw new LatheError(
      "LATHE_CHECK_FAILED",
      `checkout did not restore ${unfinished.length} path${unfinished.length === 1 ? "" : "s"}: ${unfinished.map((e) => e.path).join(", ")}.`,
      { paths: unfinished.map((e) => e.path) },
    );
  }
}

function checkoutText(entries: DataCheckoutEntry[]): string {
  if (entries.length === 0) {
    return "No pointer files (*.lathe): nothing to check out.";
  }
  const lines = entries.filter((e) => e.action !== "up-to-date").map((e) => e.message);
  const count = (action: DataCheckoutEntry["action"]) =>
    entries.filter((e) => e.action === action).length;
  const parts = [
    `${count("restored")} restored`,
    `${count("up-to-date")} up to date`,
    count("refused") > 0 ? `${count("refused")} refused` : "",
    count("missing-object") > 0 ? `${count("missing-object")} missing from .lathe/cache` : "",
    count("error") > 0 ? `${count("error")} failed` : "",
  ];
  lines.push(`checkout: ${parts.filter(Boolean).join(", ")}.`);
  return lines.join("\n");
}

/** A path typed by the user: relative to the current folder, and kept inside the workspace. */
function userPath(ws: Workspace, path: string, verb: string): string {
  const abs = resolve(process.cwd(), path);
  try {
    return resolveInside(ws.root, abs);
  } catch (err) {
    if (err instanceof LatheError && err.code === "LATHE_FORBIDDEN") {
      throw new LatheError(
        "LATHE_FORBIDDEN",
        `Cannot ${verb} '${path}': it resolves to ${abs}, outside the workspace ${ws.root}.`,
        { path, resolved: abs, root: ws.root },
      );
    }
    throw err;
  }
}

function initText(result: InitResult): string {
  const state = result.created
    ? `Initialized a Lathe workspace in ${result.root}`
    : `${result.root} is already a Lathe workspace`;
  const ignore = result.gitignoreUpdated ? " (.lathe/ added to .gitignore)" : "";
  return [
    `${state}${ignore}.`,
    "Next steps:",
    "  lathe add <path>            version a raw data file or folder (writes <path>.lathe)",
    "  git add .gitignore <path>.lathe",
    existsSync(join(result.root, "lathe.yaml")) || existsSync(join(result.root, "dvc.yaml"))
      ? "  lathe repro                 run the pipeline's stages as tracked runs"
      : "  write lathe.yaml with your stages, then: lathe repro",
  ].join("\n");
}

function addText(added: AddResult[]): string {
  const lines = added.map((a) =>
    a.unchanged
      ? `${a.path} unchanged (${a.oid.slice(0, 12)}): nothing to do`
      : `added ${a.path} (${describe(a)}) -> ${a.pointer}`,
  );
  const changed = added.filter((a) => !a.unchanged);
  if (changed.length > 0) {
    const files = [...new Set(changed.flatMap((a) => [a.pointer, a.gitignore]))];
    lines.push(`To track the changes with git: git add ${files.join(" ")}`);
  }
  return lines.join("\n");
}

function describe(a: AddResult): string {
  const count = a.kind === "dir" ? `${a.files} file${a.files === 1 ? "" : "s"}, ` : "";
  return `${count}${formatBytes(a.size)}`;
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
