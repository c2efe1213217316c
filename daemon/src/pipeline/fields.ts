/** Stage fields read outside the parser's walker: `env`. */
import { isMap, isScalar, type Node } from "yaml";
import type { SectionWalker } from "./sections";

/** `env: {NAME: value}`: strings, numbers and booleans, given to the command as text. */
export function readEnv(
  w: SectionWalker,
  node: Node | null | undefined,
  where: string,
): Record<string, string> {
  if (node === undefined || (isScalar(node) && node.value === null)) {
    return {};
  }
  if (!isMap(node)) {
    w.fail(node, `${where}'env' must be a mapping of variable names to values`);
  }
  const env: Record<string, string> = {};
  for (const pair of node.items) {
    const name = w.keyOf(pair, where);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      w.fail(pair.key, `${where}env name '${name}' may hold only letters, digits and '_'`);
    }
    const value = pair.value as Node | null;
    const ok = isScalar(value) && ["string", "number", "boolean"].includes(typeof value.value);
    if (!ok) {
      w.fail(value ?? pair.key, `${where}env ${name} must be a string, number or boolean`);
    }
    env[name] = String(value.value);
  }
  return env;
}
