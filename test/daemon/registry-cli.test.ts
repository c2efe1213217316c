/**
 * `lathe models card|promote|rollback|unalias|history|annotate|show` through the built CLI as a
 * child process (#5): in process without a daemon, and through the workspace daemon when one runs,
 * so that the daemon's event bus (which deployments of `model@alias` follow) hears of each move.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { DaemonEvent } from "../../schemas/api";
import { closeContext, openContext } from "../../daemon/src/context";
import { register } from "../../daemon/src/registry/register";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import { daemonIn, removeDir, runCli, tempDir } from "../helpers";

let root = "";
const runIds: string[] = [];
const lathe = (...args: string[]) => runCli(args, { cwd: root });

before(async () => {
  root = await tempDir("lathe-registry-cli-");
  writeFileSync(join(root, "lathe.yaml"), "stages: {}\n");
  const ctx = openContext(root, { quiet: true });
  try {
    [0.7, 0.8].forEach((accuracy, i) => {
      const run = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel({ bias: [i, 0, 0] }), {
        metrics: { accuracy },
      });
      register(ctx, { model: "weather-model", runId: run.runId });
      runIds.push(run.runId);
    });
  } finally {
    closeContext(ctx);
  }
});

after(async () => {
  await removeDir(root);
});

test("promote, show by alias, rollback and history, in process", async () => {
  const up = await lathe("models", "promote", "weather-model@1", "champion", "--reason", "first");
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /weather-model version 1: @champion\./);
  const next = await lathe("models", "promote", "weather-model@2", "champion");
  assert.equal(next.code, 0, next.stderr);

  const shown = await lathe("--json", "models", "show", "weather-model@champion");
  assert.equal((JSON.parse(shown.stdout) as { version: number }).version, 2);

  const back = await lathe("models", "rollback", "weather-model@champion", "--reason", "v2 drifts");
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /weather-model@champion → version 1 \(rolled back\)/);

  const history = await lathe("models", "history", "weather-model");
  assert.equal(history.code, 0, history.stderr);
  const lines = history.stdout.trim().split("\n");
  assert.match(lines[0]!, /@champion +2 → 1 +\(v2 drifts · cli:/);
  assert.match(lines[1]!, /@champion +1 → 2/);
  assert.match(lines[2]!, /@champion +— → 1 +\(first · cli:/);
});

test("promote --stage sets the MLflow-style stage; card and annotate", async () => {
  const staged = await lathe(
    "--json",
    "models",
    "promote",
    "weather-model@2",
    "--stage",
    "Staging",
  );
  assert.equal(staged.code, 0, staged.stderr);
  assert.equal((JSON.parse(staged.stdout) as { stage: string }).stage, "Staging");

  const noted = await lathe(
    "models",
    "annotate",
    "weather-model@champion",
    "--description",
    "the one in production",
    "--tag",
    "owner=ana",
    "team=ml",
  );
  assert.equal(noted.code, 0, noted.stderr);
  const card = await lathe("models", "card", "weather-model@champion");
  assert.equal(card.code, 0, card.stderr);
  assert.match(card.stdout, /^# weather-model — version 1\n\nthe one in production\n/);
  assert.match(card.stdout, /\| owner \| ana \|\n\| team \| ml \|/);
  assert.match(card.stdout, /\| accuracy \| 0\.7 \|/);

  const untag = await lathe(
    "--json",
    "models",
    "annotate",
    "weather-model@1",
    "--delete-tag",
    "team",
  );
  assert.deepEqual((JSON.parse(untag.stdout) as { tags: object }).tags, { owner: "ana" });
});

test("bad input exits 2 with the reason: alias names, unknown models, versions and aliases", async () => {
  const cases: [string[], RegExp][] = [
    [["models", "promote", "weather-model@1", "Bad Alias"], /'Bad Alias' is not a valid alias/],
    [["models", "promote", "weather-model@1", "latest"], /'latest' is reserved/],
    [["models", "promote", "nope@1", "champion"], /No model named 'nope'/],
    [["models", "promote", "weather-model@9", "champion"], /no version 9; its versions are 1, 2/],
    [["models", "promote", "weather-model@v9", "champion"], /no version 9; its versions are 1, 2/],
    [["models", "promote", "weather-model@1"], /Name an alias or a stage/],
    [["models", "promote", "weather-model@1", "--stage", "Live"], /'Live' is not a stage/],
    [["models", "rollback", "weather-model@ghost"], /no alias 'ghost' \(its aliases: champion\)/],
    [["models", "rollback", "weather-model@2"], /names no alias/],
    [["models", "card", "weather-model@"], /names no model version/],
    [
      ["models", "annotate", "weather-model@1", "--tag", "novalue"],
      /option '--tag <key=value...>' argument 'novalue' is invalid\. expected key=value/,
    ],
    [["models", "unalias", "weather-model@ghost"], /no alias 'ghost'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await lathe(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
  }
});

test("rollback with no earlier version exits 2 (a conflict, not a crash)", async () => {
  await lathe("models", "promote", "weather-model@2", "challenger");
  const r = await lathe("models", "rollback", "weather-model@challenger");
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /has no earlier version to roll back to/);
});

test("with a daemon running, moves and registrations go through it: its event bus hears them", async () => {
  const d = await daemonIn(root);
  const events: DaemonEvent[] = [];
  d.ctx.events.on((e) => events.push(e));
  try {
    const r = await lathe(
      "models",
      "promote",
      "weather-model@2",
      "champion",
      "--reason",
      "ab test",
    );
    assert.equal(r.code, 0, r.stderr);
    const back = await lathe("models", "rollback", "weather-model@champion");
    assert.equal(back.code, 0, back.stderr);
    const gone = await lathe("models", "unalias", "weather-model@challenger");
    assert.equal(gone.code, 0, gone.stderr);
    const reg = await lathe("models", "register", "weather-model", "--from", runIds[1]!);
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stdout, /Registered weather-model version 3/);
    assert.deepEqual(events.at(-1), { type: "models/changed", model: "weather-model" });
    assert.deepEqual(
      events
        .filter((e) => e.type === "models/changed" && e.alias)
        .map((e) => e.type === "models/changed" && e.alias),
      [
        { name: "champion", from: 1, to: 2 },
        { name: "champion", from: 2, to: 1 },
        { name: "challenger", from: 2, to: null },
      ],
    );
  } finally {
    await d.close();
  }
});
