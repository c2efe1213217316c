/**
 * The code lenses over JSON-RPC (#4): Run stage, Run group for a foreach stage, and each stage's
 * state computed by the language server from lathe.lock and the files (no daemon), checked
 * against what the real `lathe status --pipeline` says after a real `lathe repro`
 * (`npm run build` first: the CLI is dist/lathe.js).
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import type { PipelineStatus } from "../../schemas/api";
import { runCli } from "../helpers";
import { startLsp, type Lsp } from "./lsp-client";

const pipeline = `stages:
  prepare:
    cmd: mkdir -p data/prepared && cp data/raw.csv data/prepared/train.csv
    deps: [data/raw.csv]
    params: [prepare.split]
    outs: [data/prepared]
  train:
    cmd: cat data/prepared/train.csv > model.txt
    deps: [data/prepared]
    params: [train.lr]
    outs: [model.txt]
  report:
    cmd: echo done > report.txt
    outs: [report.txt]
    frozen: true
  fit:
    foreach: [small, big]
    do:
      cmd: echo \${item} \${train.lr} > fit-\${item}.txt
      deps: [data/raw.csv]
      outs:
        - fit-\${item}.txt
`;

let lsp: Lsp;
let root: string;
let uri: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "lathe-lsp-lenses-"));
  mkdirSync(join(root, "data"));
  writeFileSync(join(root, "data/raw.csv"), "a,b\n1,2\n");
  writeFileSync(join(root, "params.yaml"), "prepare:\n  split: 0.2\ntrain:\n  lr: 0.1\n");
  writeFileSync(join(root, "lathe.yaml"), pipeline);
  uri = pathToFileURL(join(root, "lathe.yaml")).toString();
  lsp = await startLsp();
  lsp.open(uri, pipeline);
});
after(() => {
  lsp.close();
  rmSync(root, { recursive: true, force: true });
});

/** Each lens as [line, title, command, arguments]. */
async function lenses(): Promise<[number, string, string, unknown][]> {
  return (await lsp.codeLenses(uri)).map((l) => [
    l.range.start.line,
    l.command!.title,
    l.command!.command,
    l.command!.arguments,
  ]);
}

/** The state lens's tooltip of the stage whose name is on `line`. */
async function tooltip(line: number): Promise<string | undefined> {
  const lens = (await lsp.codeLenses(uri)).find(
    (l) => l.range.start.line === line && l.command?.command === "",
  );
  return lens?.command?.tooltip;
}

async function cliStatus(): Promise<Map<string, PipelineStatus["stages"][number]>> {
  const result = await runCli(["status", "--pipeline", "--json"], { cwd: root });
  const status = JSON.parse(result.stdout) as PipelineStatus;
  return new Map(status.stages.map((s) => [s.stage, s]));
}

/** The files changed on disk: the editor's watcher tells the server. */
function filesChanged(): void {
  void lsp.client.sendNotification("workspace/didChangeWatchedFiles", { changes: [] });
}

test("before any repro: run lenses, Run group for a foreach stage, never ran and frozen", async () => {
  assert.deepEqual(await lenses(), [
    [1, "$(play) Run stage", "lathe.runStage", ["prepare"]],
    [1, "$(circle-outline) never ran", "", undefined],
    [6, "$(play) Run stage", "lathe.runStage", ["train"]],
    [6, "$(circle-outline) never ran", "", undefined],
    [11, "$(play) Run stage", "lathe.runStage", ["report"]],
    [11, "$(lock) frozen", "", undefined],
    [15, "$(run-all) Run group", "lathe.runStage", ["fit"]],
    [15, "$(circle-outline) never ran", "", undefined],
  ]);
  const cli = await cliStatus();
  assert.deepEqual(
    [...cli.values()].map((s) => [s.stage, s.state, s.reasons[0]?.kind]),
    [
      ["prepare", "stale", "never-ran"],
      ["train", "stale", "never-ran"],
      ["report", "frozen", "frozen"],
      ["fit@small", "stale", "never-ran"],
      ["fit@big", "stale", "never-ran"],
    ],
  );
});

test("after lathe repro every stage is up to date, as lathe status says", async () => {
  const repro = await runCli(["repro"], { cwd: root });
  assert.equal(repro.code, 0, repro.stderr);

  assert.deepEqual(
    (await lenses())
      .filter(([, , command]) => command === "")
      .map(([line, title]) => [line, title]),
    [
      [1, "$(check) up to date"],
      [6, "$(check) up to date"],
      [11, "$(lock) frozen"],
      [15, "$(check) 2 up to date"],
    ],
  );
  const cli = await cliStatus();
  assert.deepEqual(
    [...cli.values()].map((s) => [s.stage, s.state]),
    [
      ["prepare", "up-to-date"],
      ["train", "up-to-date"],
      ["report", "frozen"],
      ["fit@small", "up-to-date"],
      ["fit@big", "up-to-date"],
    ],
  );
});

test("a changed dep makes its stages and those downstream stale, with lathe status's reasons", async () => {
  appendFileSync(join(root, "data/raw.csv"), "3,4\n");

  assert.deepEqual(
    (await lenses())
      .filter(([, , command]) => command === "")
      .map(([line, title]) => [line, title]),
    [
      [1, "$(warning) stale: dep data/raw.csv changed"],
      [6, "$(warning) stale: upstream stage 'prepare' is stale"],
      [11, "$(lock) frozen"],
      [15, "$(warning) 2 of 2 stale: fit@small: dep data/raw.csv changed"],
    ],
  );
  const cli = await cliStatus();
  const reasons = (stage: string) =>
    cli
      .get(stage)!
      .reasons.map((r) => r.message)
      .join("\n");
  assert.equal(await tooltip(1), reasons("prepare"));
  assert.equal(await tooltip(6), reasons("train"));
  assert.equal(
    await tooltip(15),
    `fit@small: stale: ${reasons("fit@small")}\nfit@big: stale: ${reasons("fit@big")}`,
  );
});

test("a changed param, and a ${…} reading it in a command, are named as lathe status names them", async () => {
  writeFileSync(join(root, "params.yaml"), "prepare:\n  split: 0.2\ntrain:\n  lr: 0.5\n");
  const refreshed = new Promise<void>((resolve) =>
    lsp.client.onRequest("workspace/codeLens/refresh", () => resolve()),
  );
  filesChanged();
  await refreshed; // The editor asks for the lenses again.

  const titles = (await lenses()).filter(([, , command]) => command === "");
  assert.deepEqual(titles[1], [
    6,
    "$(warning) stale: param train.lr changed (+1 more)",
    "",
    undefined,
  ]);
  assert.deepEqual(titles[3]?.[1], "$(warning) 2 of 2 stale: fit@small: cmd changed");
  const cli = await cliStatus();
  assert.equal(
    await tooltip(6),
    cli
      .get("train")!
      .reasons.map((r) => r.message)
      .join("\n"),
  );
  assert.deepEqual(
    cli.get("fit@small")!.reasons.map((r) => r.message),
    ["cmd changed", "dep data/raw.csv changed"],
  );
});

test("a dep too large to re-hash in the editor is taken as unchanged and named", async () => {
  writeFileSync(join(root, "data/big.bin"), Buffer.alloc(9 * 1024 * 1024, 1));
  const text = `${pipeline}  pack:\n    cmd: wc -c data/big.bin > pack.txt\n    deps: [data/big.bin]\n    outs: [pack.txt]\n`;
  writeFileSync(join(root, "lathe.yaml"), text);
  lsp.change(uri, text);
  const repro = await runCli(["repro", "pack"], { cwd: root });
  assert.equal(repro.code, 0, repro.stderr);

  const pack = (await lenses()).find(([line, , command]) => line === 22 && command === "");
  assert.equal(pack?.[1], "$(check) up to date, data/big.bin not re-hashed");
  assert.equal((await cliStatus()).get("pack")?.state, "up-to-date");
});
