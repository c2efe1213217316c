/** Keeping versioned data and Lathe's state out of git, one `.gitignore` line at a time. */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Makes sure the `.gitignore` in `dir` ignores `entry` (for example `/data.csv` or `/.lathe/`),
 * creating the file if needed. A line naming the same thing, anchored or not, with or without a
 * trailing slash, counts as present. Returns whether a line was added.
 */
export async function ensureIgnored(dir: string, entry: string): Promise<boolean> {
  const file = join(dir, ".gitignore");
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") {
      return ""; // No .gitignore yet: it is created below.
    }
    throw err;
  });

  const wanted = normalize(entry);
  if (text.split(/\r?\n/).some((line) => normalize(line) === wanted)) {
    return false;
  }
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  await appendFile(file, `${separator}${entry}\n`);
  return true;
}

/** The `.gitignore` line that ignores exactly `name` in its own folder, glob characters escaped. */
export function ignoreLineFor(name: string, isDir = false): string {
  const escaped = name
    .replace(/[\\*?[]/g, "\\$&")
    .replace(/ +$/, (spaces) => "\\ ".repeat(spaces.length));
  return `/${escaped}${isDir ? "/" : ""}`;
}

function normalize(line: string): string {
  return line.trim().replace(/^\//, "").replace(/\/$/, "");
}
