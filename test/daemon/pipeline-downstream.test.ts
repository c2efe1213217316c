import assert from "node:assert/strict";
import { request } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { DaemonEvent, ReproResult } from "../../schemas/api";
import { LatheError } from "../../daemon/src/errors";
import { daemonIn, removeDir, runCli, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

// a → b → c, and d on its own.
const pipeline = `stages:
  a:
    cmd: node -e "require('fs').writeFileSync('a.txt', require('fs').readFileSync('params.yaml'))"
    params: [n]
    outs: [a.txt]
  b:
    cmd: node -e "require('fs').copyFileSync('a.txt', 'b.txt')"
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: node -e "require('fs').copyFileSync('b.txt', 'c.txt')"
    deps: [b.txt]
    outs: [c.txt]
  d:
    cmd: node -e "require('fs').writeFileSync('d.txt', 'd')"
    outs: [d.txt]
`;

let root: string;

before(async () => {
  root = await tempDir("lathe-downstream-");
  writeFiles(root, { "lathe.yaml": pipeline, "params.yaml": "n: 1\n" });
});

after(async () => {
  await removeDir(root);
});

test("lathe repro b --downstream runs b and what depends on it, not its upstream or d", async () => {
  const first = await runCli(["repro", "a", "--json"], { cwd: root });
  assert.equal(first.code, 0, first.stderr);
  const result = await runCli(["repro", "b", "--downstream", "--force", "--json"], { cwd: root });
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as ReproResult;
  assert.deepEqual(
    parsed.stages.map((s) => [s.stage, s.status]),
    [
      ["b", "ran"],
      ["c", "ran"],
    ],
  );
});

test("POST pipeline/repro with downstream selects the stage and its dependants; a bad value is a 400", async () => {
  const daemon = await daemonIn(root);
  try {
    const result = await daemon.client.call<ReproResult>("POST", "/api/v1/pipeline/repro", {
      stages: ["a"],
      downstream: true,
    });
    assert.deepEqual(
      result.stages.map((s) => s.stage),
      ["a", "b", "c"],
    );
    await assert.rejects(
      daemon.client.call("POST", "/api/v1/pipeline/repro", { stages: ["a"], downstream: "yes" }),
      (err: unknown) => err instanceof LatheError && err.code === "LATHE_BAD_INPUT",
    );
  } finally {
    await daemon.close();
  }
});

test("the event stream says pipeline/changed when a params file changes on disk", async () => {
  const daemon = await daemonIn(root);
  try {
    const event = new Promise<DaemonEvent>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: daemon.info.port,
          path: "/api/v1/events",
          headers: { Authorization: `Bearer ${daemon.info.token}` },
        },
        (res) => {
          res.setEncoding("utf8");
          let buffer = "";
          res.on("data", (chunk: string) => {
            buffer += chunk;
            if (buffer.includes(": connected")) {
              // The stream is open: now change the file.
              writeFileSync(join(root, "params.yaml"), "n: 2\n");
              buffer = buffer.replace(": connected", "");
            }
            const match = /data: (.*)\n\n/.exec(buffer);
            if (match) {
              const parsed = JSON.parse(match[1]!) as DaemonEvent;
              if (parsed.type === "pipeline/changed") {
                req.destroy();
                resolve(parsed);
              }
              buffer = buffer.slice(match.index + match[0].length);
            }
          });
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.deepEqual(await event, { type: "pipeline/changed", path: "params.yaml" });
  } finally {
    await daemon.close();
  }
});
