/** `lathe init`, `lathe add <path...>` and `lathe hash <path>`: data versioning (issue #2). */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { closeContext, openContext } from "../../context";
import { addPath, type AddResult } from "../../data/add";
import { hashPath } from "../../data/hash";
import { initWorkspace, type InitResult } from "../../data/init";
import { LatheError } from "../../errors";
import { HashCache } from "../../pipeline/hashcache";
import { resolveInside, workspaceAt, type Workspace } from "../../workspace";
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
        const targets = paths.map((p) => userPath(ws, p));
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

/** A path typed by the user: relative to the current folder, and kept inside the workspace. */
function userPath(ws: Workspace, path: string): string {
  const abs = resolve(process.cwd(), path);
  try {
    return resolveInside(ws.root, abs);
  } catch (err) {
    if (err instanceof LatheError && err.code === "LATHE_FORBIDDEN") {
      throw new LatheError(
        "LATHE_FORBIDDEN",
        `Cannot add '${path}': it resolves to ${abs}, outside the workspace ${ws.root}.`,
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
    "  lathe add data/            version a data file or folder (writes data.lathe)",
    "  git add .gitignore data.lathe",
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
