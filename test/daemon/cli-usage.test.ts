// Usage errors of the CLI: each names the option, the value and what was expected, exits 2 at
// once (no stack trace, no hang), and is JSON under --json. Runs the built CLI.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { removeDir, runCli, tempDir } from "../helpers";

const cases: [string, string[], RegExp][] = [
  [
    "--limit that is not a number",
    ["runs", "list", "--limit", "abc"],
    /option '--limit <n>' argument 'abc' is invalid\. expected a whole number from 1 to 100000/,
  ],
  ["--limit that is not whole", ["runs", "list", "--limit", "1.5"], /argument '1\.5' is invalid/],
  ["--limit below 1", ["runs", "list", "--limit", "-1"], /argument '-1' is invalid/],
  [
    "--port out of range",
    ["daemon", "--port", "99999"],
    /option '--port <n>' argument '99999' is invalid\. expected a whole number from 0 to 65535/,
  ],
  ["--port that is not a number", ["daemon", "--port", "abc"], /argument 'abc' is invalid/],
  [
    "--jobs out of range",
    ["repro", "--jobs", "0"],
    /option '-j, --jobs <n>' argument '0' is invalid\. expected a whole number from 1 to 64/,
  ],
  [
    "deploy --max-batch-rows out of range",
    ["deploy", "m", "--max-batch-rows", "0"],
    /argument '0' is invalid\. expected a whole number from 1 to 4096/,
  ],
  [
    "predict --file that does not exist",
    ["predict", "m", "--file", "/nonexistent/rows.json"],
    /--file \/nonexistent\/rows\.json: the file does not exist\./,
  ],
  [
    "predict --file that is a folder",
    ["predict", "m", "--file", "/tmp"],
    /--file \/tmp: the file is a folder, not a file\./,
  ],
  [
    "predict --records with a number beyond float64",
    ["predict", "m", "--records", '[{"temp_max":3},{"temp_max":2,"precipitation":1e400}]'],
    /--records: record 1, field 'precipitation': 1e400 is not a finite number \(beyond ±1\.8e308, JSON reads it as Infinity\)/,
  ],
  [
    "predict --records with a negative overflow inside a wrapped array field",
    ["predict", "m", "--records", '{"records":[{"x":[1,-2E+999]}]}'],
    /--records: record 0, field 'x\[1\]': -2E\+999 is not a finite number \(beyond ±1\.8e308, JSON reads it as -Infinity\)/,
  ],
  ["an unknown option", ["runs", "list", "--bogus"], /unknown option '--bogus'/],
];

for (const [what, args, message] of cases) {
  void test(`${what}: exit 2 with a message naming it`, async () => {
    const root = await tempDir();
    await runCli(["init"], { cwd: root });

    const plain = await runCli(args, { cwd: root, timeoutMs: 20_000 });
    const json = await runCli(["--json", ...args], { cwd: root, timeoutMs: 20_000 });

    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, message);
    assert.doesNotMatch(plain.stderr, /\n\s+at /, "no stack trace");
    assert.equal(json.code, 2, json.stderr);
    const body = JSON.parse(json.stderr) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "LATHE_BAD_INPUT");
    assert.match(body.error.message, message);
    await removeDir(root);
  });
}

void test("--root naming a missing folder is exit 2 and creates nothing there", async () => {
  const root = await tempDir();
  const missing = join(root, "no-such-folder");

  const result = await runCli(["--root", missing, "runs", "list"], { cwd: root });

  assert.equal(result.code, 2);
  assert.match(result.stderr, /--root .*no-such-folder: .* is not a folder\./);
  assert.equal(existsSync(missing), false);
  await removeDir(root);
});

void test("--root naming a folder that is no workspace is exit 2 and says to run init", async () => {
  const root = await tempDir();

  const result = await runCli(["--root", root, "models", "list"], { cwd: "/" });

  assert.equal(result.code, 2);
  assert.match(result.stderr, /is not a Lathe workspace .*run 'lathe init --root/);
  assert.equal(existsSync(join(root, ".lathe")), false);
  await removeDir(root);
});
