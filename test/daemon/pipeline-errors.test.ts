import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { buildDag, selectStages } from "../../daemon/src/pipeline/dag";
import { parseLock } from "../../daemon/src/pipeline/lock";
import { parsePipeline } from "../../daemon/src/pipeline/parse";
import { removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

const parse = (text: string) => parsePipeline("lathe.yaml", text);

test("a file that is not YAML names lathe.yaml:line:col", () => {
  assert.throws(
    () => parse("stages:\n  a: [1\n  b: 2\n"),
    (err: Error & { code?: string }) => {
      assert.equal(err.name, "LATHE_BAD_FILE");
      assert.match(err.message, /^lathe\.yaml:\d+:\d+: not valid YAML/);
      return true;
    },
  );
});

test("field errors name the line, the stage and the field", () => {
  const cmd = "stages:\n  train:\n    cmd: {a: 1}\n";
  assert.throws(
    () => parse(cmd),
    /lathe\.yaml:3:10: stage 'train': 'cmd' must be a string or a list of strings$/,
  );
  const unknown = "stages:\n  train:\n    cmd: x\n    depz: [a]\n";
  assert.throws(
    () => parse(unknown),
    /lathe\.yaml:4:5: stage 'train': unknown field 'depz'; valid: cmd, wdir, deps, params/,
  );
  assert.throws(
    () => parse("stages:\n  t:\n    deps: [a]\n"),
    /lathe\.yaml:2:3: stage 't': 'cmd' is missing/,
  );
  assert.throws(
    () => parse("stages:\n  t:\n    cmd: x\n    outs: [../x]\n"),
    /lathe\.yaml:4:12: stage 't': 'outs' path '..\/x' is outside the workspace/,
  );
  assert.throws(
    () => parse("stagez: {}\n"),
    /unknown top-level field 'stagez'; valid: stages, experiment/,
  );
});

test("the parser reads every stage field, the list cmd and the object out form", () => {
  const p = parse(`experiment: exp1
stages:
  s:
    cmd: [echo a, echo b]
    wdir: sub
    deps: [in.csv]
    params: [a.b, {other.yaml: [c]}]
    outs: [{model.bin: {cache: false}}, dir/]
    metrics: [m.json]
    plots: [{h.csv: {x: step, y: loss}}]
    desc: a stage
    always_changed: true
    frozen: false
`);
  const s = p.stages[0]!;
  assert.equal(p.experiment, "exp1");
  assert.equal(s.cmd, "echo a && echo b");
  assert.equal(s.wdir, "sub");
  assert.deepEqual(
    s.deps.map((d) => d.wsPath),
    ["sub/in.csv"],
  );
  assert.deepEqual(
    s.params.map((x) => [x.file, x.key]),
    [
      ["sub/params.yaml", "a.b"],
      ["sub/other.yaml", "c"],
    ],
  );
  assert.deepEqual(
    s.outs.map((o) => [o.wsPath, o.cache]),
    [
      ["sub/model.bin", false],
      ["sub/dir", true],
    ],
  );
  assert.deepEqual(
    s.plots.map((o) => o.wsPath),
    ["sub/h.csv"],
  );
  assert.equal(s.alwaysChanged, true);
});

test("a cycle names its stages; overlapping outs name both stages", () => {
  const cycle = `stages:
  a:
    cmd: x
    deps: [c.txt]
    outs: [a.txt]
  b:
    cmd: x
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: x
    deps: [b.txt]
    outs: [c.txt]
`;
  assert.throws(() => buildDag(parse(cycle)), /the stages form a cycle: a -> b -> c -> a/);
  const overlap =
    "stages:\n  a:\n    cmd: x\n    outs: [data]\n  b:\n    cmd: y\n    outs: [data/x]\n";
  assert.throws(
    () => buildDag(parse(overlap)),
    /lathe\.yaml:7:12: stages 'a' and 'b' both write data and data\/x, which overlap/,
  );
});

test("a stage that depends on its own output is a cycle of one, named at the dep", () => {
  const same = "stages:\n  a:\n    cmd: x\n    deps: [a.txt]\n    outs: [a.txt]\n";
  assert.throws(
    () => buildDag(parse(same)),
    /lathe\.yaml:4:12: the stages form a cycle: a -> a; stage 'a' depends on its own output a\.txt$/,
  );
  const inside = "stages:\n  a:\n    cmd: x\n    deps: [data]\n    outs: [data/cache.bin]\n";
  assert.throws(
    () => buildDag(parse(inside)),
    /cycle: a -> a; stage 'a' depends on its own output data \(it overlaps data\/cache\.bin\)/,
  );
});

test("deps inside a produced directory link the stages; selection takes upstream", () => {
  const text = `stages:
  eval:
    cmd: x
    deps: [data/prepared/test.csv, model.bin]
  prep:
    cmd: x
    outs: [data/prepared]
  train:
    cmd: x
    deps: [data/prepared]
    outs: [model.bin]
`;
  const dag = buildDag(parse(text));
  assert.deepEqual(
    dag.order.map((s) => s.name),
    ["prep", "train", "eval"],
  );
  assert.deepEqual(
    selectStages(dag, ["train"]).map((s) => s.name),
    ["prep", "train"],
  );
});

test("the CLI exits 2 naming the file, field or path for bad pipelines", async () => {
  const root = await tempDir("lathe-pipeline-cli-");
  const cli = (files: Record<string, string>) => {
    writeFiles(root, files);
    return runCli(["repro"], { cwd: root });
  };

  const notYaml = await cli({ "lathe.yaml": "stages:\n  a: [oops\n" });
  assert.equal(notYaml.code, 2);
  assert.match(notYaml.stderr, /lathe\.yaml:\d+:\d+: not valid YAML/);

  const unknown = await cli({ "lathe.yaml": "stages:\n  a:\n    cmd: x\n    outz: [y]\n" });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /lathe\.yaml:4:5: stage 'a': unknown field 'outz'/);

  const missing = await cli({
    "lathe.yaml": "stages:\n  prepare:\n    cmd: x\n    deps: [data/weather.csv]\n",
  });
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /stage 'prepare' depends on data\/weather\.csv, which does not exist and no stage produces; run 'lathe add data\/weather\.csv' or fix deps/,
  );

  const param = await cli({
    "lathe.yaml": "stages:\n  a:\n    cmd: x\n    params: [train.lr]\n",
    "params.yaml": "train:\n  epochs: 3\n",
  });
  assert.equal(param.code, 2);
  assert.match(
    param.stderr,
    /lathe\.yaml:4:14: stage 'a': param 'train\.lr' is not in params\.yaml/,
  );

  const failing = await cli({
    "lathe.yaml": `stages:\n  train:\n    cmd: node -e "console.error('loss is NaN'); process.exit(1)"\n  after:\n    cmd: echo hi\n    deps: [m.txt]\n  m:\n    cmd: echo m > m.txt && false\n    outs: [m.txt]\n`,
  });
  assert.equal(failing.code, 2);
  assert.match(failing.stdout, /FAILED\s+train run [0-9a-f]{8}: exit 1/);
  assert.match(failing.stdout, /not run\s+after: upstream stage 'm' failed/);
  assert.match(
    failing.stderr,
    /stage 'train' failed \(exit 1\); the end of its log:\n\s+loss is NaN/,
  );
  await removeDir(root);
});

test("a versioned dep that is not checked out says to run lathe checkout, as lathe status does", async () => {
  const root = await tempDir("lathe-pipeline-checkout-");
  writeFiles(root, {
    "data/weather.csv": "t\n1\n",
    "data/prepared/a.csv": "a\n",
    "lathe.yaml": "stages:\n  prepare:\n    cmd: x\n    deps: [src/p.js, data/weather.csv]\n",
    "src/p.js": "\n",
  });
  assert.equal((await runCli(["add", "data/weather.csv", "data/prepared"], { cwd: root })).code, 0);
  await rm(join(root, "data/weather.csv"));
  await rm(join(root, "data/prepared"), { recursive: true });

  const res = await runCli(["repro"], { cwd: root });
  assert.equal(res.code, 2, res.stdout);
  assert.match(
    res.stderr,
    /^lathe: lathe\.yaml:4:22: stage 'prepare' depends on data\/weather\.csv, which is versioned \(data\/weather\.csv\.lathe\) but not in the workspace; run 'lathe checkout data\/weather\.csv' to restore it$/m,
  );
  const status = await runCli(["status"], { cwd: root });
  assert.match(status.stdout, /run 'lathe checkout data\/weather\.csv'/);

  // A file inside a versioned folder names the folder, which is what checkout restores.
  writeFiles(root, {
    "lathe.yaml": "stages:\n  prepare:\n    cmd: x\n    deps: [data/prepared/a.csv]\n",
  });
  const inner = await runCli(["repro"], { cwd: root });
  assert.equal(inner.code, 2);
  assert.match(
    inner.stderr,
    /versioned \(data\/prepared\.lathe\) but not in the workspace; run 'lathe checkout data\/prepared'/,
  );
  await removeDir(root);
});

test("a params file or lathe.lock that is not YAML names file:line:col, as lathe.yaml's errors do", async () => {
  const root = await tempDir("lathe-params-yaml-");
  writeFiles(root, {
    "lathe.yaml": "stages:\n  a:\n    cmd: x\n    params: [train.lr]\n",
    "params.yaml": "train:\n lr: 0.1\n  epochs: 3\n",
  });
  const res = await runCli(["--json", "repro"], { cwd: root });
  assert.equal(res.code, 2, res.stdout);
  const { error } = JSON.parse(res.stderr) as { error: { code: string; message: string } };
  assert.equal(error.code, "LATHE_BAD_FILE");
  assert.match(
    error.message,
    /^params\.yaml:2:6: not valid YAML: Nested mappings are not allowed in compact mappings$/,
  );

  // lathe.lock is read the same way, and says what to do about it.
  writeFiles(root, {
    "params.yaml": "train:\n  lr: 0.1\n",
    "lathe.lock": "stages:\n a: 1\n  b: 2\n",
  });
  const lock = await runCli(["repro"], { cwd: root });
  assert.equal(lock.code, 2, lock.stdout);
  assert.match(
    lock.stderr,
    /^lathe: lathe\.lock:2:5: not valid YAML: Nested mappings are not allowed in compact mappings; fix it, or delete lathe\.lock to start over/m,
  );
  await removeDir(root);
});

test("cmd must be text: a number is refused where it is written", () => {
  assert.throws(
    () => parse("stages:\n  a:\n    cmd: 3\n"),
    /lathe\.yaml:3:10: stage 'a': 'cmd' must be a string or a list of strings$/,
  );
  assert.throws(
    () => parse("stages:\n  a:\n    cmd: [echo a, 3]\n"),
    /lathe\.yaml:3:19: stage 'a': 'cmd' must be a string or a list of strings$/,
  );
});

test("a dep with options says that a dep takes none, not the options of outputs", () => {
  const message =
    /lathe\.yaml:4:12: stage 'a': a dep is a path and takes no options \(cache, persist, desc, remote, push are options of outs, metrics and plots\): write '- in\.csv'$/;
  assert.throws(
    () => parse("stages:\n  a:\n    cmd: x\n    deps: [{in.csv: {cache: false}}]\n"),
    message,
  );
  assert.throws(
    () => parse("stages:\n  a:\n    cmd: x\n    deps: [{in.csv: {foo: 1}}]\n"),
    message,
  );
});

test("a lathe.lock entry of the wrong shape names lathe.lock:line:col, the stage and the field", () => {
  const lock = (entry: string) => `schema: '1.0'\nstages:\n  a:\n${entry}`;
  const hint =
    "fix it, or delete lathe.lock to start over \\(every stage is then stale and runs on the next repro\\)$";
  assert.throws(
    () => parseLock(lock("    cmd: x\n    outs: 3\n")),
    new RegExp(`lathe\\.lock:5:11: stage 'a': 'outs' must be a list of \\{path, oid\\}; ${hint}`),
  );
  assert.throws(
    () => parseLock(lock("    cmd: x\n    deps:\n    - path: in.csv\n")),
    new RegExp(
      `lathe\\.lock:6:7: stage 'a': deps\\[0\\] must be a mapping with a 'path' and an 'oid'; ${hint}`,
    ),
  );
  assert.throws(
    () => parseLock(lock("    cmd: 3\n")),
    new RegExp(`lathe\\.lock:4:10: stage 'a': 'cmd' must be a string; ${hint}`),
  );
  assert.throws(
    () => parseLock(lock("    cmd: x\n    params: {params.yaml: 1}\n")),
    new RegExp(
      `lathe\\.lock:5:27: stage 'a': params of params\\.yaml must be a mapping of keys to values; ${hint}`,
    ),
  );
  assert.throws(() => parseLock("stages: [a]\n"), /lathe\.lock:1:9: 'stages' must be a mapping/);
  assert.throws(() => parseLock("stages:\n  a: [1\n"), /lathe\.lock:\d+:\d+: not valid YAML/);
  assert.deepEqual(parseLock("").stages, {});
});

test("the CLI exits 2 on a malformed lathe.lock, a lathe.yaml folder and a dep only versioned", async () => {
  const root = await tempDir("lathe-pipeline-robust-");
  writeFiles(root, {
    "lathe.yaml": "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n",
    "lathe.lock": "schema: '1.0'\nstages:\n  a:\n    cmd: echo a > a.txt\n    outs: 3\n",
  });
  for (const verb of ["repro", "status"]) {
    const lock = await runCli([verb], { cwd: root });
    assert.equal(lock.code, 2, lock.stderr);
    assert.match(
      lock.stderr,
      /lathe\.lock:5:11: stage 'a': 'outs' must be a list of \{path, oid\}; fix it, or delete lathe\.lock to start over/,
    );
  }

  rmSync(join(root, "lathe.lock"));
  writeFiles(root, {
    "lathe.yaml": "stages:\n  a:\n    cmd: cat data.csv\n    deps: [data.csv]\n",
    "data.csv.lathe": `oid: ${"0".repeat(64)}\n`,
  });
  const versioned = await runCli(["repro"], { cwd: root });
  assert.equal(versioned.code, 2, versioned.stderr);
  assert.match(
    versioned.stderr,
    /lathe\.yaml:4:12: stage 'a' depends on data\.csv, which is versioned \(data\.csv\.lathe\) but not in the workspace; run 'lathe checkout data\.csv' to restore it/,
  );

  rmSync(join(root, "lathe.yaml"));
  mkdirSync(join(root, "lathe.yaml"));
  const folder = await runCli(["repro"], { cwd: root });
  assert.equal(folder.code, 2, folder.stderr);
  assert.match(folder.stderr, /lathe\.yaml: is a folder, not a file/);
  await removeDir(root);
});
