// The parse cache of lathe.yaml, params files and lathe.lock (.lathe/parsed/): used while every
// file a parse read is unchanged, dropped when one changes (a vars file too), never written for
// a file changed within the racy window, for a value JSON would alter, or without a .lathe/.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ParamsReader } from "../../daemon/src/pipeline/params";
import { loadPipeline } from "../../daemon/src/pipeline/parse";
import { removeDir, tempDir } from "../helpers";

const old = new Date(Date.now() - 60_000);
const writeOld = (root: string, path: string, text: string) => {
  writeFileSync(join(root, path), text);
  utimesSync(join(root, path), old, old);
};
const entries = (root: string) => readdirSync(join(root, ".lathe", "parsed"));

test("a cached pipeline parse is used until lathe.yaml or a vars file it read changes", async () => {
  const root = await tempDir("lathe-parsecache-");
  try {
    mkdirSync(join(root, ".lathe"));
    writeOld(root, "lathe.yaml", "stages:\n  a:\n    cmd: echo ${greeting}\n");
    writeOld(root, "params.yaml", "greeting: hi\n");
    assert.equal(loadPipeline(root).stages[0]!.cmd, "echo hi");
    const [entry] = entries(root);
    const file = join(root, ".lathe", "parsed", entry!);

    // Proof that the next load reads the entry: a value only the entry holds comes back.
    const cached = JSON.parse(readFileSync(file, "utf8")) as { value: { experiment: string } };
    cached.value.experiment = "from-the-cache";
    writeFileSync(file, JSON.stringify(cached));
    assert.equal(loadPipeline(root).experiment, "from-the-cache");

    writeOld(root, "params.yaml", "greeting: hello\n"); // a vars file: new size and ctime
    const fresh = loadPipeline(root);
    assert.equal(fresh.experiment, null);
    assert.equal(fresh.stages[0]!.cmd, "echo hello");
  } finally {
    await removeDir(root);
  }
});

test("no entry for a file changed just now, for .inf params, or without .lathe/", async () => {
  const root = await tempDir("lathe-parsecache-");
  try {
    writeOld(root, "lathe.yaml", "stages:\n  a:\n    cmd: echo\n");
    loadPipeline(root);
    assert.deepEqual(readdirSync(root).sort(), ["lathe.yaml"], "nothing written without .lathe/");

    mkdirSync(join(root, ".lathe"));
    writeFileSync(join(root, "lathe.yaml"), "stages:\n  b:\n    cmd: echo\n"); // just now
    assert.equal(loadPipeline(root).stages[0]!.name, "b");
    assert.throws(() => entries(root), /ENOENT/);

    writeOld(root, "p.yaml", "x: .inf\ny: 1\n");
    const pipeline = loadPipeline(root);
    const stage = {
      ...pipeline.stages[0]!,
      params: [{ file: "p.yaml", key: "x", pos: { line: 1, col: 1 } }],
    };
    assert.equal(new ParamsReader(root).forStage(pipeline, stage)["p.yaml"]!.x, Infinity);
    assert.equal(new ParamsReader(root).forStage(pipeline, stage)["p.yaml"]!.x, Infinity);
    assert.throws(() => entries(root), /ENOENT/, "a value JSON would turn into null is not cached");
  } finally {
    await removeDir(root);
  }
});
