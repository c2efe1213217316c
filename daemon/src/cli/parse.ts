/**
 * Option parsers for commander: a value that is not what the option takes is a usage error
 * (exit code 2) naming the option, the value and what was expected, before any work starts.
 */
import { InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import { TAG_KEY_MAX, VERSION_TEXT_MAX } from "../../../schemas/registry";
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

/** A repeatable `--tag key=value`: the tags given so far, with this one. */
export function tagOption(
  value: string,
  previous?: Record<string, string>,
): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) {
    throw new InvalidArgumentError("expected key=value with a non-empty key, e.g. owner=ana.");
  }
  const key = value.slice(0, eq);
  if (key.length > TAG_KEY_MAX) {
    throw new InvalidArgumentError(`expected a key of at most ${TAG_KEY_MAX} characters.`);
  }
  if (value.length - eq - 1 > VERSION_TEXT_MAX) {
    throw new InvalidArgumentError(`expected a value of at most ${VERSION_TEXT_MAX} characters.`);
  }
  if (previous && Object.hasOwn(previous, key)) {
    throw new InvalidArgumentError(`tag '${key}' is given twice (${key}=${previous[key]}).`);
  }
  return { ...previous, [key]: value.slice(eq + 1) };
}

/** A version's description: at most VERSION_TEXT_MAX characters, as the daemon takes it. */
export function descriptionOption(value: string): string {
  if (value.length > VERSION_TEXT_MAX) {
    throw new InvalidArgumentError(
      `expected at most ${VERSION_TEXT_MAX} characters (it has ${value.length}).`,
    );
  }
  return value;
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
