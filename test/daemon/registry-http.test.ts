/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call --
   Replies are checked field by field; typing them first would restate the shapes under test. */
/**
 * The registry routes (#5) over real HTTP on port 0: aliases that move and are audited, rollback,
 * stages, tags and descriptions, model cards, targets, and the `models/changed` events that a
 * deployment of `model@alias` follows. Versions come from real ONNX bytes in the content store.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import type { DaemonEvent } from "../../schemas/api";
import { register } from "../../daemon/src/registry/register";
import { resolveTarget } from "../../daemon/src/registry/target";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import { trackingDaemon, type Reply, type TrackingDaemon } from "./tracking-helpers";

let d: TrackingDaemon;
const events: DaemonEvent[] = [];
const M = "/api/v1/models/weather-model";

before(async () => {
  d = await trackingDaemon("lathe-registry-http-");
  const ctx = d.daemon.ctx;
  ctx.events.on((e) => events.push(e));
  const accuracies = [0.7, 0.8, 0.75];
  accuracies.forEach((accuracy, i) => {
    const run = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel({ bias: [i, 0, 0] }), {
      metrics: { accuracy },
      params: { "train.seed": String(i) },
    });
    register(ctx, { model: "weather-model", runId: run.runId });
  });
});

after(async () => {
  await d.close();
});

function assertError(r: Reply, status: number, code: string, pattern: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.code, code);
  assert.match(r.json.message, pattern);
}

const put = (path: string, body: unknown) => d.call("PUT", path, body);

test("PUT an alias points it at a version; the version and the model list it; GET reads it", async () => {
  const set = await put(`${M}/aliases/champion`, { version: 2, reason: "best accuracy" });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.version, 2);
  assert.deepEqual(set.json.aliases, ["champion"]);

  const model = await d.get(M);
  assert.deepEqual(model.json.aliases, { champion: 2 });
  assert.deepEqual(
    model.json.versions.map((v: { aliases: string[] }) => v.aliases),
    [[], ["champion"], []],
  );
  const got = await d.get(`${M}/aliases/champion`);
  assert.equal(got.json.version, 2);
  assert.deepEqual((await d.get(`${M}/aliases`)).json, { champion: 2 });
});

test("moving an alias emits models/changed with the move, and resolveTarget follows it", async () => {
  await put(`${M}/aliases/challenger`, { version: 1 });
  events.length = 0;
  const moved = await put(`${M}/aliases/challenger`, { version: 3, actor: "tester" });
  assert.equal(moved.status, 200, moved.text);
  assert.deepEqual(events, [
    {
      type: "models/changed",
      model: "weather-model",
      alias: { name: "challenger", from: 1, to: 3 },
    },
  ]);
  const ctx = d.daemon.ctx;
  assert.deepEqual(resolveTarget(ctx, "weather-model@challenger"), {
    model: "weather-model",
    version: 3,
    alias: "challenger",
  });
  assert.deepEqual(resolveTarget(ctx, "weather-model"), {
    model: "weather-model",
    version: 3,
    alias: null,
  });
  assert.equal(resolveTarget(ctx, "weather-model@1").version, 1);
  const viaRoute = await d.get(`/api/v1/targets/${encodeURIComponent("weather-model@challenger")}`);
  assert.deepEqual(viaRoute.json, { model: "weather-model", version: 3, alias: "challenger" });

  events.length = 0;
  const same = await put(`${M}/aliases/challenger`, { version: 3 });
  assert.equal(same.status, 200);
  assert.deepEqual(events, [], "pointing an alias where it points already is no move");
});

test("rollback moves the alias back to the version it left, recorded in the history", async () => {
  await put(`${M}/aliases/prod`, { version: 1, reason: "first" });
  await put(`${M}/aliases/prod`, { version: 3, reason: "newer" });
  const back = await d.post(`${M}/aliases/prod/rollback`, { reason: "v3 is slow" });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.version, 1);

  const history = await d.get(`${M}/history`);
  const prod = history.json.filter((e: { name: string }) => e.name === "prod");
  assert.deepEqual(
    prod.map((e: { from: string | null; to: string; reason: string; actor: string }) => [
      e.from,
      e.to,
      e.reason,
      e.actor,
    ]),
    [
      ["3", "1", "v3 is slow", "api"],
      ["1", "3", "newer", "api"],
      [null, "1", "first", "api"],
    ],
  );
  assert.ok(prod.every((e: { at: number; kind: string }) => e.kind === "alias" && e.at > 0));
});

test("rollback of an alias set only once is 409 naming the alias", async () => {
  await put(`${M}/aliases/fresh`, { version: 2 });
  const r = await d.post(`${M}/aliases/fresh/rollback`, {});
  assertError(r, 409, "LATHE_CONFLICT", /weather-model@fresh has no earlier version/);
});

test("DELETE an alias removes it and is audited; a second DELETE is 404", async () => {
  await put(`${M}/aliases/temp`, { version: 1 });
  const r = await d.call("DELETE", `${M}/aliases/temp?reason=cleanup`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.aliases.temp, undefined);
  const last = (await d.get(`${M}/history`)).json[0];
  assert.deepEqual([last.name, last.from, last.to, last.reason], ["temp", "1", null, "cleanup"]);
  assertError(
    await d.call("DELETE", `${M}/aliases/temp`),
    404,
    "LATHE_NOT_FOUND",
    /no alias 'temp'/,
  );
});

test("bad alias requests: unknown model, version or alias, invalid or reserved names", async () => {
  assertError(
    await put("/api/v1/models/nope/aliases/champion", { version: 1 }),
    404,
    "LATHE_NOT_FOUND",
    /No model named 'nope'.*weather-model/,
  );
  assertError(
    await put(`${M}/aliases/champion`, { version: 9 }),
    404,
    "LATHE_NOT_FOUND",
    /no version 9; its versions are 1, 2, 3/,
  );
  assertError(
    await d.get(`${M}/aliases/ghost`),
    404,
    "LATHE_NOT_FOUND",
    /no alias 'ghost' \(its aliases: /,
  );
  assertError(
    await put(`${M}/aliases/${encodeURIComponent("bad name!")}`, { version: 1 }),
    400,
    "LATHE_BAD_INPUT",
    /'bad name!' is not a valid alias/,
  );
  assertError(
    await put(`${M}/aliases/latest`, { version: 1 }),
    400,
    "LATHE_BAD_INPUT",
    /'latest' is reserved/,
  );
  assertError(await put(`${M}/aliases/v2`, { version: 1 }), 400, "LATHE_BAD_INPUT", /reserved/);
  assertError(
    await put(`${M}/aliases/champion`, { version: "2" }),
    400,
    "LATHE_BAD_INPUT",
    /version must be integer/,
  );
  assertError(
    await put(`${M}/aliases/champion`, {}),
    400,
    "LATHE_BAD_INPUT",
    /must have required property 'version'/,
  );
  assertError(
    await d.get(`/api/v1/targets/${encodeURIComponent("weather-model@")}`),
    400,
    "LATHE_BAD_INPUT",
    /names no model version/,
  );
});

test("stages move like MLflow's, with archiveExisting, each move audited", async () => {
  const one = await put(`${M}/versions/1/stage`, { stage: "Production" });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.stage, "Production");
  const two = await put(`${M}/versions/2/stage`, {
    stage: "Production",
    archiveExisting: true,
    reason: "better",
  });
  assert.equal(two.json.stage, "Production");
  const model = (await d.get(M)).json;
  assert.deepEqual(
    model.versions.map((v: { stage: string }) => v.stage),
    ["Archived", "Production", "None"],
  );
  const stages = (await d.get(`${M}/history`)).json
    .filter((e: { kind: string }) => e.kind === "stage")
    .map((e: { name: string; from: string; to: string }) => `${e.name}:${e.from}->${e.to}`);
  assert.deepEqual(stages, ["1:Production->Archived", "2:None->Production", "1:None->Production"]);

  assertError(
    await put(`${M}/versions/1/stage`, { stage: "Prod" }),
    400,
    "LATHE_BAD_INPUT",
    /stage must be equal to one of the allowed values/,
  );
  assertError(
    await put(`${M}/versions/0/stage`, { stage: "None" }),
    400,
    "LATHE_BAD_INPUT",
    /version '0' is not a positive integer/,
  );
});

test("PATCH a version sets its description and tags and deletes tags", async () => {
  const set = await d.call("PATCH", `${M}/versions/3`, {
    description: "weights seeded with 2",
    tags: { owner: "ana", reviewed: "no" },
  });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.description, "weights seeded with 2");
  assert.deepEqual(set.json.tags, { owner: "ana", reviewed: "no" });
  const del = await d.call("PATCH", `${M}/versions/3`, { deleteTags: ["reviewed"] });
  assert.deepEqual(del.json.tags, { owner: "ana" });
  assertError(
    await d.call("PATCH", `${M}/versions/3`, { deleteTags: ["nope"] }),
    404,
    "LATHE_NOT_FOUND",
    /no tag 'nope'; its tags: owner/,
  );
  assertError(
    await d.call("PATCH", `${M}/versions/3`, { colour: "red" }),
    400,
    "LATHE_BAD_INPUT",
    /unknown field 'colour'/,
  );
});

test("a version carries its lineage: source run, git commit, data ids, params and metrics", async () => {
  const v = (await d.get(`${M}/versions/2`)).json;
  assert.match(v.runId, /^[0-9a-f]{32}$/);
  assert.equal(v.gitCommit, null);
  assert.deepEqual(v.dataIds, []);
  assert.deepEqual(v.metrics, { accuracy: 0.8 });
  assert.deepEqual(v.params, { "train.seed": "1" });
  assert.equal(v.gate, null);
  assert.ok(v.updatedAt >= v.createdAt);
});

test("the model card of an alias, a version or the latest names what the version carries", async () => {
  const byAlias = await d.get(`${M}/card`, { alias: "champion" });
  assert.equal(byAlias.status, 200, byAlias.text);
  assert.equal(byAlias.json.version, 2);
  const md: string = byAlias.json.markdown;
  assert.match(md, /^# weather-model — version 2/);
  assert.match(md, /\| Aliases \| `@champion`, `@fresh` \|/);
  assert.match(md, /\| Stage \| Production \|/);
  assert.match(md, /\| accuracy \| 0\.8 \|/);
  assert.match(md, /\| train\.seed \| 1 \|/);
  assert.match(md, /\| input \| features \| FP32 \| \[-1, 4\] \|/);
  assert.match(md, /No gate: this version was registered by hand/);
  assert.match(md, /## History/);

  const latest = await d.get(`${M}/card`);
  assert.equal(latest.json.version, 3);
  assert.match(latest.json.markdown, /weights seeded with 2/);
  assert.match(latest.json.markdown, /\| owner \| ana \|/);
  assert.equal((await d.get(`${M}/card`, { version: "1" })).json.version, 1);

  assertError(await d.get(`${M}/card`, { alias: "ghost" }), 404, "LATHE_NOT_FOUND", /ghost/);
  assertError(await d.get(`${M}/card`, { version: "x" }), 400, "LATHE_BAD_INPUT", /'x'/);
  assertError(
    await d.get(`${M}/card`, { version: "1", alias: "champion" }),
    400,
    "LATHE_BAD_INPUT",
    /either/,
  );
  assertError(await d.get("/api/v1/models/nope/history"), 404, "LATHE_NOT_FOUND", /nope/);
});

test("the event stream (GET /api/v1/events) carries the alias move to clients", async () => {
  const event = new Promise<DaemonEvent>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: d.port,
        path: "/api/v1/events",
        headers: { Authorization: `Bearer ${d.token}` },
      },
      (res) => {
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk: string) => {
          buffer += chunk;
          if (buffer.includes(": connected")) {
            buffer = buffer.replace(": connected", "");
            void put(`${M}/aliases/streamed`, { version: 2 });
          }
          for (let m = /data: (.*)\n\n/.exec(buffer); m; m = /data: (.*)\n\n/.exec(buffer)) {
            const parsed = JSON.parse(m[1]!) as DaemonEvent;
            buffer = buffer.slice(m.index + m[0].length);
            if (parsed.type === "models/changed" && parsed.alias?.name === "streamed") {
              req.destroy();
              resolve(parsed);
            }
          }
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
  assert.deepEqual(await event, {
    type: "models/changed",
    model: "weather-model",
    alias: { name: "streamed", from: null, to: 2 },
  });
});
