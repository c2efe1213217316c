// `lathe status` for versioned data: each pointer file against its data and the content store.
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { DataStatus, PipelineStatus } from "../../schemas/api";
import { objectPath } from "../../daemon/src/data/objects";
import { workspaceAt } from "../../daemon/src/workspace";
import { removeDir, runCli, tempDir } from "../helpers";

type StatusJson = Partial<PipelineStatus> & { data?: DataStatus };

void test("status reports versioned data modified, missing, not in cache and invalid, with --check", async () => {
  const root = await tempDir("lathe-data-status-");
  try {
    await mkdir(join(root, "data/images"), { recursive: true });
    await writeFile(join(root, "data/a.csv"), "x\n1\n");
    await writeFile(join(root, "data/b.csv"), "x\n2\n");
    await writeFile(join(root, "data/c.csv"), "x\n3\n");
    await writeFile(join(root, "data/images/1.png"), "png");
    await writeFile(join(root, "data/d.csv"), "x\n4\n");
    assert.equal((await runCli(["init"], { cwd: root })).code, 0);
    const add = await runCli(
      ["--json", "add", "data/a.csv", "data/b.csv", "data/c.csv", "data/images", "data/d.csv"],
      { cwd: root },
    );
    assert.equal(add.code, 0, add.stderr);
    const added = (JSON.parse(add.stdout) as { added: { oid: string }[] }).added;

    const clean = await runCli(["--json", "status", "--check"], { cwd: root });
    assert.equal(clean.code, 0, clean.stderr);
    const cleanJson = JSON.parse(clean.stdout) as StatusJson;
    assert.equal(cleanJson.stages, undefined, "no lathe.yaml: only data is reported");
    assert.equal(cleanJson.data!.changed, false);
    assert.equal(cleanJson.data!.entries.length, 5);

    await writeFile(join(root, "data/a.csv"), "x\n10\n"); // modified
    await rm(join(root, "data/b.csv")); // missing, object still cached
    await rm(objectPath(workspaceAt(root), added[2]!.oid), { force: true }); // c: not in cache
    await writeFile(join(root, "data/d.csv.lathe"), "oid: nope\n"); // invalid pointer

    const run = await runCli(["--json", "status", "--data", "--check"], { cwd: root });
    assert.equal(run.code, 1, run.stderr);
    const status = await runCli(["--json", "status", "--data"], { cwd: root });
    const data = (JSON.parse(status.stdout) as StatusJson).data!;
    assert.deepEqual(
      data.entries.map((e) => [e.path, e.state]),
      [
        ["data/a.csv", "modified"],
        ["data/b.csv", "missing"],
        ["data/c.csv", "not-in-cache"],
        ["data/d.csv", "invalid"],
        ["data/images", "up-to-date"],
      ],
    );
    assert.match(data.entries[3]!.message, /data\/d\.csv\.lathe:1:\d+.*oid/);

    const text = await runCli(["status"], { cwd: root });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^data:$/m);
    assert.match(
      text.stdout,
      /^ {2}data\/a\.csv +modified: data\/a\.csv differs from data\/a\.csv\.lathe; run 'lathe add data\/a\.csv' to version it$/m,
    );
    assert.match(
      text.stdout,
      /^ {2}data\/b\.csv +missing: data\/b\.csv is not in the workspace \(its data is in \.lathe\/cache\); run 'lathe checkout data\/b\.csv' to restore it$/m,
    );
    assert.match(text.stdout, /^ {2}data\/c\.csv +not in cache: /m);
    assert.match(text.stdout, /^ {2}data\/images +up to date$/m);
  } finally {
    await removeDir(root);
  }
});

void test("status with a pipeline reports both; --pipeline alone leaves data out", async () => {
  const root = await tempDir("lathe-data-status-");
  try {
    await writeFile(join(root, "raw.csv"), "x\n1\n");
    await writeFile(
      join(root, "lathe.yaml"),
      "stages:\n  a:\n    cmd: cp raw.csv out.csv\n    deps: [raw.csv]\n    outs: [out.csv]\n",
    );
    assert.equal((await runCli(["add", "raw.csv"], { cwd: root })).code, 0);
    const both = JSON.parse(
      (await runCli(["--json", "status"], { cwd: root })).stdout,
    ) as StatusJson;
    assert.deepEqual(
      both.stages!.map((s) => s.state),
      ["stale"],
    );
    assert.deepEqual(
      both.data!.entries.map((e) => e.state),
      ["up-to-date"],
    );
    const only = JSON.parse(
      (await runCli(["--json", "status", "--pipeline"], { cwd: root })).stdout,
    ) as StatusJson;
    assert.equal(only.data, undefined);
    const check = await runCli(["status", "--check"], { cwd: root });
    assert.equal(check.code, 1);
    assert.match(check.stderr, /some stages are stale/);
  } finally {
    await removeDir(root);
  }
});
