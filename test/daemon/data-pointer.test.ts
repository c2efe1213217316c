import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ensureIgnored, ignoreLineFor } from "../../daemon/src/data/gitignore";
import { parsePointer, readPointer } from "../../daemon/src/data/pointer";
import { removeDir, tempDir } from "../helpers";

const oid = "5d676f3276b346d9183c1c2cf8cf8da8eff57d0a706acb44184b34b8aabef06f";
const good = `oid: ${oid}\nsize: 8\nfiles: 1\nkind: file\npath: x.csv\n`;

void test("a well-formed pointer parses; a missing one reads as undefined", async () => {
  assert.deepEqual(parsePointer(good, "x.csv.lathe"), {
    oid,
    size: 8,
    files: 1,
    kind: "file",
    path: "x.csv",
  });
  const dir = await tempDir();
  assert.equal(await readPointer(join(dir, "none.lathe")), undefined);
  await removeDir(dir);
});

void test("each malformed pointer is LATHE_BAD_FILE naming the file and the field", () => {
  const cases: [string, RegExp][] = [
    [
      "oid: [unclosed\n",
      /data\/p\.lathe:2:1: pointer file is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]\. Fix it/,
    ],
    ["- a list\n", /data\/p\.lathe:1:1: pointer file must be a YAML mapping/],
    [good.replace(/size: 8\n/, ""), /field 'size' is missing/],
    [
      good.replace("size: 8", "size: -1"),
      /p\.lathe:2:7: field 'size' is -1; expected a whole number of bytes/,
    ],
    [good.replace("files: 1", "files: 1.5"), /field 'files' is 1.5/],
    [
      good.replace("kind: file", "kind: folder"),
      /field 'kind' is "folder"; expected 'file' or 'dir'/,
    ],
    [good.replace("path: x.csv", "path: ../x.csv"), /field 'path' is "..\/x.csv"/],
    [good.replace(oid, oid.toUpperCase()), /field 'oid' is "5D67.*"; expected 64 hex digits/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parsePointer(text, "data/p.lathe"),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "LATHE_BAD_FILE");
        assert.match(err.message, message);
        return true;
      },
      text,
    );
  }
});

void test("ensureIgnored adds a line once, whatever form an existing line takes", async () => {
  const dir = await tempDir();
  const file = join(dir, ".gitignore");
  assert.equal(await ensureIgnored(dir, "/data.csv"), true);
  assert.equal(await ensureIgnored(dir, "/data.csv"), false);
  await writeFile(file, "# mine\nmodels/\r\n/.lathe");
  assert.equal(await ensureIgnored(dir, "/models"), false);
  assert.equal(await ensureIgnored(dir, "/.lathe/"), false);
  assert.equal(await ensureIgnored(dir, "/data.csv"), true);
  assert.equal(await readFile(file, "utf8"), "# mine\nmodels/\r\n/.lathe\n/data.csv\n");
  await removeDir(dir);
});

void test("ignore lines escape glob characters and trailing spaces", () => {
  assert.equal(ignoreLineFor("plain.csv"), "/plain.csv");
  assert.equal(ignoreLineFor("a*b?[c].csv"), "/a\\*b\\?\\[c].csv");
  assert.equal(ignoreLineFor("#notes"), "/#notes");
  assert.equal(ignoreLineFor("trail  "), "/trail\\ \\ ");
  assert.equal(ignoreLineFor("dir", true), "/dir/");
});
