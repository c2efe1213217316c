/**
 * Where the clients shipped in the package live (`clients/python`, `clients/node`), and the
 * environment that lets a stage import them with no setup: `import lathe_client` in Python
 * (PYTHONPATH) and `require("lathe-client")` in Node (NODE_PATH).
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** `<package>/clients`: beside dist/ when bundled, or at the repository root from sources. */
export function clientsDir(): string | null {
  const candidates = [
    join(__dirname, "..", "clients"),
    join(__dirname, "..", "..", "..", "clients"),
  ];
  return candidates.find((dir) => existsSync(join(dir, "python", "lathe_client.py"))) ?? null;
}

/** `env` with the clients' folders put first on PYTHONPATH and NODE_PATH (kept when absent). */
export function withClientPaths(env: NodeJS.ProcessEnv, dir = clientsDir()): NodeJS.ProcessEnv {
  if (dir === null) {
    return env;
  }
  const prepend = (name: string, path: string) =>
    [path, ...(env[name] ?? "").split(delimiter).filter((p) => p !== "" && p !== path)].join(
      delimiter,
    );
  return {
    ...env,
    PYTHONPATH: prepend("PYTHONPATH", join(dir, "python")),
    NODE_PATH: prepend("NODE_PATH", join(dir, "node")),
  };
}
