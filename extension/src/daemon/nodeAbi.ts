/**
 * The node ABI checks of the daemon's runtime, kept free of the vscode module so that tests run
 * them under plain node.
 */
import { execFile } from "node:child_process";

declare const __LATHE_NODE_ABI__: string | undefined;
declare const __LATHE_NODE_VERSION__: string | undefined;

/** The native modules' ABI (`process.versions.modules` of the node that built them). */
export const BUILT_FOR =
  typeof __LATHE_NODE_ABI__ === "string"
    ? { abi: __LATHE_NODE_ABI__, node: __LATHE_NODE_VERSION__ ?? "unknown" }
    : undefined;

export interface NodeBinary {
  path: string;
  /** e.g. "20.19.2"; undefined when the binary could not be asked. */
  version: string | undefined;
  /** `process.versions.modules`, e.g. "115" for Node 20; undefined when it could not be asked. */
  abi: string | undefined;
  fallback: boolean;
}

/**
 * Why `node` cannot run the bundled daemon, or undefined when it can (or when either ABI is
 * unknown, as in a development build, where the daemon's own check still applies).
 */
export function abiMismatch(
  node: NodeBinary,
  builtFor: { abi: string; node: string } | undefined,
): string | undefined {
  if (!builtFor || !node.abi || node.abi === builtFor.abi) {
    return undefined;
  }
  const which = node.fallback ? `the editor's own runtime (${node.path})` : `'${node.path}'`;
  return `Lathe's local service needs Node.js ${major(builtFor.node)} (module ABI ${builtFor.abi}), but ${which} is Node.js ${node.version ?? "?"} (ABI ${node.abi}). Install Node.js ${major(builtFor.node)} and set lathe.nodePath to it.`;
}

function major(version: string): string {
  return version.split(".")[0] ?? version;
}

export function askNode(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<{ version: string; abi: string | undefined }> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ["-p", "process.versions.node + ' ' + process.versions.modules"],
      { env, timeout: 10_000 },
      (err: Error | null, stdout) => {
        if (err) {
          reject(err);
          return;
        }
        const [version = "", abi] = stdout.trim().split(" ");
        resolve({ version, abi });
      },
    );
  });
}
