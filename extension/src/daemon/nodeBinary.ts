/**
 * Which node runs the daemon. The daemon loads native modules (better-sqlite3, onnxruntime-node)
 * built for one Node ABI, so we use `lathe.nodePath`; when that is not found we fall back to the
 * editor's own binary run as node (ELECTRON_RUN_AS_NODE), and say so in the log. Before starting,
 * the binary's ABI is compared with the one the bundled modules were built for, so a wrong node
 * (another major version, or desktop VS Code's Electron, whose ABI never matches Node's) is
 * refused with the setting to change instead of a crash inside the daemon.
 */
import { askNode, type NodeBinary } from "./nodeAbi";
import { log } from "../vscode/log";

export type { NodeBinary };

export async function resolveNodeBinary(nodePath: string): Promise<NodeBinary> {
  try {
    const { version, abi } = await askNode(nodePath, process.env);
    return { path: nodePath, version, abi, fallback: false };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "EACCES") {
      throw err;
    }
    log.warn(
      `lathe.nodePath '${nodePath}' was not found (${code}); running the daemon with the editor's own binary ${process.execPath} as node. Set lathe.nodePath to a Node 20 binary to use your own.`,
    );
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: "1" };
    const asked = await askNode(process.execPath, env).catch(() => undefined);
    return { path: process.execPath, version: asked?.version, abi: asked?.abi, fallback: true };
  }
}
