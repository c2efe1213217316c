/**
 * Option parsers for commander: a value that is not what the option takes is a usage error
 * (exit code 2) naming the option, the value and what was expected, before any work starts.
 */
import { InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import { LatheError } from "../errors";

/** An integer option within [min, max]. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** The text of a file named by an option; LATHE_BAD_INPUT naming the option when it cannot be read. */
export function readOptionFile(option: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EISDIR"
          ? "is a folder, not a file"
          : code === "EACCES"
            ? "cannot be read (permission denied)"
            : `cannot be read (${code ?? (err as Error).message})`;
    throw new LatheError("LATHE_BAD_INPUT", `${option} ${path}: the file ${why}.`, {
      option,
      path,
    });
  }
}
