/**
 * Which node runs the daemon. The daemon loads native modules built for the user's node, so we
 * use `lathe.nodePath`; when that is not found we fall back to the editor's own binary run as
 * node (ELECTRON_RUN_AS_NODE), and say so in the log.
 * FIXME(#2): the fallback is only exercised in code-server, where execPath is node already; check
 * it in desktop VS Code (Electron's node ABI differs, so better-sqlite3 may not load there).
 */
import { execFile } from "node:child_process";
import { log } from "../vscode/log";

export interface NodeBinary {
  path: string;
  /** e.g. "20.19.2"; undefined when the binary could not be asked. */
  version: string | undefined;
  fallback: boolean;
}

export async function resolveNodeBinary(nodePath: string): Promise<NodeBinary> {
  try {
    const version = await nodeVersion(nodePath, process.env);
    return { path: nodePath, version, fallback: false };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "EACCES") {
      throw err;
    }
    log.warn(
      `lathe.nodePath '${nodePath}' was not found (${code}); running the daemon with the editor's own binary ${process.execPath} as node. Set lathe.nodePath to a Node 20 binary to use your own.`,
    );
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: "1" };
    const version = await nodeVersion(process.execPath, env).catch(() => undefined);
    return { path: process.execPath, version, fallback: true };
  }
}

function nodeVersion(path: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ["-p", "process.versions.node"],
      { env, timeout: 10_000 },
      (err: Error | null, stdout) => {
        if (err) {
          reject(err);
        } else {
          resolve(stdout.trim());
        }
      },
    );
  });
}
