/**
 * The "Add missing params key" quick fix over JSON-RPC (#4): the edit it offers, applied to the
 * params file, must give a file that parses and holds the new key at the right nesting, written
 * in the file's own style (flow mappings, indentation, a missing final newline, JSON).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { TextEdit } from "vscode-languageserver";
import { parse } from "yaml";
import { copyWorkspace, repoRoot, startLsp, type Lsp } from "./lsp-client";

const weather = readFileSync(join(repoRoot, "examples/weather/lathe.yaml"), "utf8");
let lsp: Lsp;
let ws: ReturnType<typeof copyWorkspace>;

before(async () => {
  ws = copyWorkspace(join(repoRoot, "examples/weather"));
  lsp = await startLsp();
});
after(() => {
  lsp.close();
  ws.remove();
});

/**
 * Writes `text` as the params file, names `key` in the train stage's params, and returns the
 * params file after the quick fix's edit.
 */
async function fixed(text: string, key: string, file = "params.yaml"): Promise<string> {
  writeFileSync(join(ws.root, file), text);
  void lsp.client.sendNotification("workspace/didChangeWatchedFiles", { changes: [] });
  const param = file === "params.yaml" ? key : `{${file}: [${key}]}`;
  const uri = ws.uri("lathe.yaml");
  lsp.open(uri, weather.replace("params: [train.epochs,", `params: [${param}, train.epochs,`));
  const diagnostic = (await lsp.diagnostics(uri)).find(
    (d) => d.code === "unknown-param" && (d.data as { key: string }).key === key,
  );
  assert.ok(diagnostic, `'${key}' is reported as missing from ${file}`);

  const [fix] = await lsp.codeActions(uri, diagnostic.range, [diagnostic]);

  assert.equal(fix?.title, `Add '${key}' to ${file}`);
  const edits = fix.edit?.changes?.[ws.uri(file)];
  assert.equal(edits?.length, 1);
  return applyEdit(text, edits[0]!);
}

function applyEdit(text: string, edit: TextEdit): string {
  const offset = ({ line, character }: TextEdit["range"]["start"]) =>
    text.split("\n").slice(0, line).join("\n").length + (line > 0 ? 1 : 0) + character;
  return (
    text.slice(0, offset(edit.range.start)) + edit.newText + text.slice(offset(edit.range.end))
  );
}

test("a flow-style section gets the key inside its braces (#4)", async () => {
  const after = await fixed("train: {lr: 1, seed: 7}\nprepare: {city: x}\n", "train.momentum");

  assert.equal(after, "train: {lr: 1, seed: 7, momentum: null}\nprepare: {city: x}\n");
  assert.deepEqual(parse(after), {
    train: { lr: 1, seed: 7, momentum: null },
    prepare: { city: "x" },
  });
  assert.equal(
    await fixed("train: {}\n", "train.opt.momentum"),
    "train: {opt: {momentum: null}}\n",
  );
});

test("a file without a final newline gets the key on a line of its own (#4)", async () => {
  const after = await fixed("train:\n  lr: 1", "train.momentum");

  assert.equal(after, "train:\n  lr: 1\n  momentum: null");
  assert.deepEqual(parse(after), { train: { lr: 1, momentum: null } });
  assert.equal(
    await fixed("train:\n  lr: 1", "eval.batch"),
    "train:\n  lr: 1\neval:\n  batch: null",
  );
});

test("a section indented with four spaces gets keys indented with four (#4)", async () => {
  const text = "train:\n    lr: 1\n    seed: 7 # fixed\nprepare:\n    city: x\n";

  const after = await fixed(text, "train.momentum");
  assert.equal(
    after,
    "train:\n    lr: 1\n    seed: 7 # fixed\n    momentum: null\nprepare:\n    city: x\n",
  );
  assert.deepEqual(parse(after), {
    train: { lr: 1, seed: 7, momentum: null },
    prepare: { city: "x" },
  });

  const nested = await fixed(text, "train.opt.momentum");
  assert.equal(
    nested,
    "train:\n    lr: 1\n    seed: 7 # fixed\n    opt:\n        momentum: null\nprepare:\n    city: x\n",
  );
  assert.deepEqual((parse(nested) as { train: unknown }).train, {
    lr: 1,
    seed: 7,
    opt: { momentum: null },
  });
});

test("an empty section gets the key under it, and a JSON file stays JSON (#4)", async () => {
  assert.equal(
    await fixed("train:\nprepare:\n  city: x\n", "train.momentum"),
    "train:\n  momentum: null\nprepare:\n  city: x\n",
  );
  const json = await fixed('{\n  "train": {"lr": 1}\n}\n', "train.momentum", "other.json");
  assert.deepEqual(JSON.parse(json), { train: { lr: 1, momentum: null } });
});
