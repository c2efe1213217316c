/**
 * A description and tags given at registration (#5): `POST /api/v1/models/:name/versions` over
 * real HTTP on port 0, and `lathe models register --description --tag` through the built CLI, in
 * process and through a running daemon. Both end up on the version, `lathe models show` and its
 * model card; bad tags are exit 2 / 400 naming the value, and register nothing.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ModelVersion, RegisteredModel } from "../../schemas/api";
import type { ModelCardResponse } from "../../schemas/registry";
import { closeContext, openContext } from "../../daemon/src/context";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import { daemonIn, removeDir, runCli, tempDir } from "../helpers";
import { trackingDaemon, type Reply } from "./tracking-helpers";

function assertBadInput(r: Reply, pattern: RegExp): void {
  assert.equal(r.status, 400, r.text);
  assert.equal((r.json as { code: string }).code, "LATHE_BAD_INPUT");
  assert.match((r.json as { message: string }).message, pattern);
}

test("POST /models/:name/versions takes a description and tags; the card shows them", async () => {
  const d = await trackingDaemon("lathe-register-notes-http-");
  try {
    const ctx = d.daemon.ctx;
    const run = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel());
    const path = "/api/v1/models/weather-model/versions";
    const tags = { owner: "ana", "data.window": "2012-2014" };

    const made = await d.post(path, { runId: run.runId, description: "first cut", tags });
    assert.equal(made.status, 200, made.text);
    const version = made.json as ModelVersion;
    assert.deepEqual([version.version, version.description, version.tags], [1, "first cut", tags]);
    const card = (await d.get("/api/v1/models/weather-model/card?version=1"))
      .json as ModelCardResponse;
    assert.match(card.markdown, /^# weather-model — version 1\n\nfirst cut\n/);
    assert.match(card.markdown, /\| owner \| ana \|/);
    assert.match(card.markdown, /\| data\.window \| 2012-2014 \|/);

    assertBadInput(
      await d.post(path, { runId: run.runId, tags: { owner: 7 } }),
      /tags\.owner must be string/,
    );
    assertBadInput(
      await d.post(path, { runId: run.runId, tags: { "": "x" } }),
      /: tags key '' must NOT have fewer than 1 characters\./,
    );
    assertBadInput(
      await d.post(path, { runId: run.runId, description: "x".repeat(5001) }),
      /description must NOT have more than 5000 characters/,
    );
    assertBadInput(
      await d.post(path, { runId: run.runId, colour: "red" }),
      /unknown field 'colour'/,
    );
    const model = (await d.get("/api/v1/models/weather-model")).json as RegisteredModel;
    assert.deepEqual(
      model.versions.map((v) => v.version),
      [1],
      "a refused request registers nothing",
    );
  } finally {
    await d.close();
  }
});

// ----- lathe models register through the built CLI -----

let root = "";
const runIds: string[] = [];
const lathe = (...args: string[]) => runCli(args, { cwd: root });

before(async () => {
  root = await tempDir("lathe-register-notes-cli-");
  writeFileSync(join(root, "lathe.yaml"), "stages: {}\n");
  const ctx = openContext(root, { quiet: true });
  try {
    for (const bias of [0, 1]) {
      const model = linearSoftmaxModel({ bias: [bias, 0, 0] });
      runIds.push(seedRun(ctx.db, ctx.ws.objectsDir, model, { metrics: { accuracy: 0.8 } }).runId);
    }
  } finally {
    closeContext(ctx);
  }
});

after(async () => {
  await removeDir(root);
});

test("lathe models register --description --tag (repeated) sets them on the new version", async () => {
  const r = await lathe(
    "models",
    "register",
    "weather-model",
    "--from",
    runIds[0]!,
    "--description",
    "trained on 2012-2014",
    "--tag",
    "owner=ana",
    "--tag",
    "note=a=b",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Registered weather-model version 1/);

  const shown = await lathe("models", "show", "weather-model@1");
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^ {2}trained on 2012-2014$/m);
  assert.match(shown.stdout, /^ {2}tags: {4}note=a=b {2}owner=ana$/m);
  const card = await lathe("models", "card", "weather-model@1");
  assert.match(card.stdout, /^# weather-model — version 1\n\ntrained on 2012-2014\n/);
  assert.match(card.stdout, /\| note \| a=b \|\n\| owner \| ana \|/);
});

test("a bad --tag or --description is exit 2 naming the value, and registers nothing", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--tag", "novalue"],
      /option '--tag <key=value>' argument 'novalue' is invalid\. expected key=value with a non-empty key/,
    ],
    [["--tag", "=ana"], /argument '=ana' is invalid\. expected key=value/],
    [["--tag", "owner=ana", "--tag", "owner=bo"], /tag 'owner' is given twice \(owner=ana\)/],
    [["--tag", `${"k".repeat(251)}=v`], /expected a key of at most 250 characters/],
    [["--description", "x".repeat(5001)], /expected at most 5000 characters \(it has 5001\)/],
  ];
  for (const [extra, pattern] of cases) {
    const args = ["models", "register", "weather-model", "--from", runIds[1]!, ...extra];
    const plain = await lathe(...args);
    assert.equal(plain.code, 2, `${extra.join(" ")}: ${plain.stderr}`);
    assert.match(plain.stderr, pattern);
    const json = await lathe("--json", ...args);
    assert.equal(json.code, 2, json.stderr);
    const body = JSON.parse(json.stderr) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "LATHE_BAD_INPUT");
  }
  const listed = JSON.parse((await lathe("--json", "models", "list")).stdout) as RegisteredModel[];
  assert.deepEqual(
    listed[0]!.versions.map((v) => v.version),
    [1],
  );

  const annotate = await lathe("models", "annotate", "weather-model@1", "--tag", "novalue");
  assert.equal(annotate.code, 2, annotate.stderr);
  assert.match(annotate.stderr, /argument 'novalue' is invalid\. expected key=value/);
});

test("with a daemon running, register sends the description and tags through it", async () => {
  const d = await daemonIn(root);
  try {
    const r = await lathe(
      "--json",
      "models",
      "register",
      "weather-model",
      "--from",
      runIds[1]!,
      "--description",
      "via the daemon",
      "--tag",
      "owner=bo",
    );
    assert.equal(r.code, 0, r.stderr);
    const version = JSON.parse(r.stdout) as ModelVersion;
    assert.deepEqual(
      [version.version, version.description, version.tags],
      [2, "via the daemon", { owner: "bo" }],
    );
    const audit = d.ctx.db
      .prepare("SELECT value FROM model_version_tags WHERE model = ? AND version = 2")
      .all("weather-model");
    assert.deepEqual(audit, [{ value: "bo" }], "the daemon's database holds the tag");
  } finally {
    await d.close();
  }
});
