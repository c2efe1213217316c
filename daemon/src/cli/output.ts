/**
 * How every CLI verb prints: `--json` prints one JSON document on stdout, otherwise a short
 * human text. Errors go to stderr; the exit code comes from the error (errors.ts).
 */
import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { LatheError, exitCodeFor, toLatheError } from "../errors";
import { findWorkspace, workspaceAt, type Workspace } from "../workspace";

export interface GlobalOptions {
  json?: boolean;
  root?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** The workspace for a command: --root, or the nearest folder with lathe.yaml above the cwd. */
export function workspaceFor(cmd: Command, required = true): Workspace {
  const { root } = globals(cmd);
  if (root) {
    const abs = resolve(root);
    if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) {
      throw new LatheError("LATHE_BAD_INPUT", `--root ${root}: ${abs} is not a folder.`, {
        root,
      });
    }
    const ws = workspaceAt(abs);
    if (required && !isWorkspace(ws)) {
      throw new LatheError(
        "LATHE_BAD_INPUT",
        `--root ${root}: ${abs} is not a Lathe workspace (no lathe.yaml, dvc.yaml or .lathe/): run 'lathe init --root ${root}' first, or check the path.`,
        { root },
      );
    }
    return ws;
  }
  const found = findWorkspace(process.cwd());
  if (found) {
    return found;
  }
  if (required) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `No Lathe workspace at or above ${process.cwd()}: run 'lathe init' or pass --root.`,
    );
  }
  return workspaceAt(process.cwd());
}

function isWorkspace(ws: Workspace): boolean {
  return ["lathe.yaml", "dvc.yaml", ".lathe"].some((m) => existsSync(join(ws.root, m)));
}

export function print(cmd: Command, value: unknown, text: () => string): void {
  if (globals(cmd).json) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  } else {
    const t = text();
    if (t) {
      process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
    }
  }
}

/** Wraps a command action: prints errors in one format and sets the exit code. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    try {
      await fn(...args);
    } catch (err) {
      const error = toLatheError(err);
      if (globals(cmd).json) {
        process.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
      } else {
        process.stderr.write(`lathe: ${error.message}\n`);
        if (error.code === "LATHE_INTERNAL" && err instanceof Error && err.stack) {
          process.stderr.write(`${err.stack}\n`);
        }
      }
      process.exitCode = exitCodeFor(error);
    }
  };
}

/** The bundled CLI script, for starting a daemon or a worker from the CLI itself. */
export function cliScript(): string {
  const here = __dirname;
  const candidate = join(here, "lathe.js");
  return existsSync(candidate) ? candidate : join(here, "..", "..", "..", "dist", "lathe.js");
}
