// The language server reports what `lathe repro` refuses, with the engine's message on the text at
// fault, and accepts what it accepts (issue #4): each case is checked over the real JSON-RPC
// connection and against the CLI on the same files.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import Ajv from "ajv";
import { parse } from "yaml";
import { runCli } from "../helpers";
import { writeFiles } from "../daemon/pipeline-fixtures";
import { rangeOf, repoRoot, startLsp, type Lsp } from "./lsp-client";

let lsp: Lsp;
const roots: string[] = [];

before(async () => {
  lsp = await startLsp();
});
after(() => {
  lsp.close();
  roots.forEach((root) => rmSync(root, { recursive: true, force: true }));
});

const base = {
  "src/a.py": "print('a')\n",
  "params.yaml": "flag: true\nlr: 0.1\n",
};

interface Case {
  text: string;
  files?: Record<string, string>;
  /** The text each error is on (its `nth` occurrence, default the first) and its message. */
  expected: { on: string; nth?: number; message: string }[];
}

/**
 * Opens the case's lathe.yaml in a fresh workspace; returns the server's diagnostics as
 * [range, message] and checks that `lathe repro` gives the first one (exit 2), naming the same
 * line and column, or accepts the file when none is expected.
 */
async function agree({ text, files = {}, expected }: Case): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "lathe-lsp-engine-"));
  roots.push(root);
  writeFiles(root, { ...base, ...files, "lathe.yaml": text });
  const uri = pathToFileURL(join(root, "lathe.yaml")).toString();
  lsp.open(uri, text);

  const found = await lsp.diagnostics(uri);

  assert.deepEqual(
    found.map((d) => [d.range, d.message]),
    expected.map(({ on, nth, message }) => [rangeOf(text, on, nth), message]),
  );
  const cli = await runCli(expected.length ? ["repro"] : ["dag"], { cwd: root });
  if (expected.length === 0) {
    assert.equal(cli.code, 0, cli.stderr);
    return;
  }
  assert.equal(cli.code, 2, cli.stderr);
  const { line, character } = found[0]!.range.start;
  const first = found[0]!.message;
  const message = typeof first === "string" ? first : first.value;
  const place = message.startsWith("lathe.lock:")
    ? ""
    : `lathe.yaml:${line + 1}:${character + 1}: `;
  assert.ok(cli.stderr.includes(`${place}${message}`), cli.stderr);
}

test("an output outside the workspace is an error on its path", () =>
  agree({
    text: "stages:\n  a:\n    cmd: python src/a.py\n    deps: [src/a.py]\n    outs: [../x]\n",
    expected: [{ on: "../x", message: "stage 'a': 'outs' path '../x' is outside the workspace" }],
  }));

test("a wdir outside the workspace is an error on it", () =>
  agree({
    text: "stages:\n  a:\n    cmd: python a.py\n    wdir: /etc\n",
    expected: [{ on: "/etc", message: "stage 'a': 'wdir' path '/etc' is outside the workspace" }],
  }));

test("an unknown ${var} is an error on the ${…}, naming the vars there are", () =>
  agree({
    text: "stages:\n  a:\n    cmd: python src/a.py ${nope}\n    deps: [src/a.py]\n",
    expected: [
      {
        on: "${nope}",
        message: "stage 'a': unknown variable 'nope' in '${nope}'; defined here: flag, lr",
      },
    ],
  }));

test("foreach items that give two stages the same name are an error on the stage", () =>
  agree({
    text: "stages:\n  gen:\n    foreach: [x, x]\n    do:\n      cmd: echo ${item}\n",
    expected: [
      {
        on: "gen",
        message: "two stages are named 'gen@x'; foreach keys and matrix values must be unique",
      },
    ],
  }));

test("generated stages writing the same literal path are an error on the output", () =>
  agree({
    text: "stages:\n  gen:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item} > out.txt\n      outs: [out.txt]\n",
    expected: [
      {
        on: "out.txt",
        nth: 1,
        message: "stages 'gen@a' and 'gen@b' both write out.txt; a path has one producing stage",
      },
    ],
  }));

test("a number as cmd is an error on it", () =>
  agree({
    text: "stages:\n  a:\n    cmd: 3\n",
    expected: [{ on: "3", message: "stage 'a': 'cmd' must be a string or a list of strings" }],
  }));

test("a dep held only by a pointer is an error naming what to run", () =>
  agree({
    text: "stages:\n  a:\n    cmd: python src/a.py\n    deps: [src/a.py, data.csv]\n",
    files: { "data.csv.lathe": `oid: ${"0".repeat(64)}\n` },
    expected: [
      {
        on: "data.csv",
        message:
          "stage 'a' depends on data.csv, which is versioned (data.csv.lathe) but not in the workspace; run 'lathe checkout data.csv' to restore it",
      },
    ],
  }));

test("a malformed lathe.lock entry is an error on its stage's name", () =>
  agree({
    text: "stages:\n  a:\n    cmd: python src/a.py\n    deps: [src/a.py]\n",
    files: {
      "lathe.lock": "schema: '1.0'\nstages:\n  a:\n    cmd: python src/a.py\n    outs: 3\n",
    },
    expected: [
      {
        on: "a",
        nth: 1, // the stage's name; the first "a" is in "stages"
        message:
          "lathe.lock:5:11: stage 'a': 'outs' must be a list of {path, oid}; fix it, or delete lathe.lock to start over (every stage is then stale and runs on the next repro)",
      },
    ],
  }));

test("frozen: ${flag} and other ${…} values are accepted, as lathe repro accepts them", () =>
  agree({
    text: "stages:\n  a:\n    cmd: python src/a.py\n    deps: [src/a.py]\n    frozen: ${flag}\n    always_changed: ${flag}\n",
    expected: [],
  }));

test("the JSON Schema the YAML extension reads accepts ${…} for a stage's flags, lists and options", () => {
  const schema: unknown = JSON.parse(
    readFileSync(join(repoRoot, "schemas", "lathe.schema.json"), "utf8"),
  );
  const validate = new Ajv({ allErrors: true }).compile(schema as object);
  const stage = (body: string) => parse(`stages:\n  a:\n    cmd: x\n${body}`) as unknown;

  for (const body of [
    "    frozen: ${flag}\n    always_changed: ${flag}\n",
    "    deps: ${deps}\n    outs: ${outs}\n    env: ${env}\n",
    "    outs:\n      - m.bin:\n          cache: ${cache}\n          persist: ${flag}\n",
  ]) {
    assert.equal(validate(stage(body)), true, `${body}: ${JSON.stringify(validate.errors)}`);
  }
  assert.equal(validate(stage("    frozen: maybe\n")), false);
  assert.equal(validate(stage("    frozen: ${flag} and more\n")), false);
});
