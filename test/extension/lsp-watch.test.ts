// Diagnostics follow the files they were checked against (issue #4): the server registers
// watchers for them itself (so `lathe lsp --stdio` in any editor gets them too) and, when one
// changes, asks a client that pulls diagnostics to pull again, or pushes them to one that does not.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import type { Diagnostic } from "vscode-languageserver";
import { writeFiles } from "../daemon/pipeline-fixtures";
import { rangeOf, startLsp, type Lsp } from "./lsp-client";

const text = `stages:
  train:
    cmd: python src/train.py
    deps: [src/train.py]
    params: [train.zz]
`;
const depMissing =
  "stage 'train' depends on src/train.py, which does not exist and no stage produces; run 'lathe add src/train.py' or fix deps";
const paramMissing = "param 'train.zz' is not in params.yaml";
const watched = "{lathe.lock,params.yaml,src/train.py,src/train.py.dvc,src/train.py.lathe}";

function workspace() {
  const root = mkdtempSync(join(tmpdir(), "lathe-lsp-watch-"));
  writeFiles(root, { "lathe.yaml": text, "params.yaml": "train:\n  lr: 0.1\n" });
  const uri = (file: string) => pathToFileURL(join(root, file)).toString();
  return { root, uri, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** The diagnostics as [range, message]. */
function shown(items: Diagnostic[]) {
  return items.map((d) => [d.range, d.message]);
}

/** The server registers its watchers after the diagnostics that name the files. */
async function registered(lsp: Lsp) {
  for (let i = 0; i < 100 && lsp.watchers().length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return lsp.watchers();
}

test("a client that pulls: the server watches the deps, their pointers, params and lathe.lock, and asks for a pull when one changes", async () => {
  const ws = workspace();
  const lsp = await startLsp({ pull: true, watch: true });
  try {
    lsp.open(ws.uri("lathe.yaml"), text);
    assert.deepEqual(shown(await lsp.diagnostics(ws.uri("lathe.yaml"))), [
      [rangeOf(text, "train.zz"), paramMissing],
      [rangeOf(text, "src/train.py", 1), depMissing],
    ]);
    assert.deepEqual(await registered(lsp), [
      { globPattern: { baseUri: pathToFileURL(ws.root).toString(), pattern: watched } },
    ]);

    writeFiles(ws.root, { "src/train.py": "print('train')\n" });
    writeFileSync(join(ws.root, "params.yaml"), "train:\n  lr: 0.1\n  zz: 1\n");
    const refreshed = lsp.nextRefresh();
    lsp.filesChanged([ws.uri("src/train.py"), ws.uri("params.yaml")]);
    await refreshed;

    assert.deepEqual(await lsp.diagnostics(ws.uri("lathe.yaml")), []);
  } finally {
    lsp.close();
    ws.remove();
  }
});

test(
  "a client that does not pull gets diagnostics pushed on open, on edit, after a file changes and on close",
  { timeout: 10_000 },
  async () => {
    const ws = workspace();
    const lsp = await startLsp({ pull: false, watch: true, relativePatterns: false });
    const uri = ws.uri("lathe.yaml");
    try {
      const opened = lsp.published(uri);
      lsp.open(uri, text);
      assert.deepEqual(shown((await opened).diagnostics), [
        [rangeOf(text, "train.zz"), paramMissing],
        [rangeOf(text, "src/train.py", 1), depMissing],
      ]);
      // Without relative patterns, one absolute glob names the workspace's files.
      assert.deepEqual(await registered(lsp), [{ globPattern: `${ws.root}/${watched}` }]);

      writeFileSync(join(ws.root, "params.yaml"), "train:\n  lr: 0.1\n  zz: 1\n");
      const afterParams = lsp.published(uri, (d) => d.length === 1);
      lsp.filesChanged([ws.uri("params.yaml")]);
      assert.deepEqual(shown((await afterParams).diagnostics), [
        [rangeOf(text, "src/train.py", 1), depMissing],
      ]);

      writeFiles(ws.root, { "src/train.py": "print('train')\n" });
      const afterDep = lsp.published(uri, (d) => d.length === 0);
      lsp.filesChanged([ws.uri("src/train.py")]);
      assert.equal((await afterDep).version, 1);

      const edited = text.replace("params: [train.zz]", "params: [train.yy]");
      const afterEdit = lsp.published(uri, (d) => d.length > 0);
      lsp.change(uri, edited);
      const pushed = await afterEdit;
      assert.equal(pushed.version, 2);
      assert.deepEqual(shown(pushed.diagnostics), [
        [rangeOf(edited, "train.yy"), "param 'train.yy' is not in params.yaml"],
      ]);

      const closed = lsp.published(uri, (d) => d.length === 0);
      void lsp.client.sendNotification("textDocument/didClose", { textDocument: { uri } });
      assert.deepEqual((await closed).diagnostics, []);
    } finally {
      lsp.close();
      ws.remove();
    }
  },
);

test("deps that only the stages a foreach generates name are watched too", async () => {
  const ws = workspace();
  const lsp = await startLsp({ pull: true, watch: true });
  const generated = `stages:
  fit:
    foreach: [small, big]
    do:
      cmd: python src/fit.py \${item}
      deps:
        - src/\${item}.py
`;
  try {
    lsp.open(ws.uri("lathe.yaml"), generated);
    assert.equal((await lsp.diagnostics(ws.uri("lathe.yaml"))).length, 2); // src/*.py are missing
    const [watcher] = await registered(lsp);
    assert.deepEqual(watcher!.globPattern, {
      baseUri: pathToFileURL(ws.root).toString(),
      pattern:
        "{lathe.lock,params.yaml,src/big.py,src/big.py.dvc,src/big.py.lathe,src/small.py,src/small.py.dvc,src/small.py.lathe}",
    });
  } finally {
    lsp.close();
    ws.remove();
  }
});
