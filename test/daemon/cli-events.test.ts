/**
 * A `lathe repro` run by the CLI in its own process beside a running daemon (#3): the daemon's
 * event stream must carry the CLI's runs/changed (new, growing and finished runs) and repro
 * progress, so the editor follows a terminal's repro live; a daemon that goes away mid-repro
 * must not fail it. Also the bad input POST /api/v1/events refuses.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { DaemonEvent, ReproResult, RunDetail } from "../../schemas/api";
import { forwardEvents } from "../../daemon/src/cli/forward-events";
import { connect } from "../../daemon/src/client";
import { closeContext, openContext } from "../../daemon/src/context";
import { runCli } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";
import { subscribe, trackingDaemon, type Stream, type TrackingDaemon } from "./tracking-helpers";

// Three rows of a live table, then a pause until the test writes `go`.
const trainScript = `const fs = require("fs");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  fs.writeFileSync("history.csv", "step,loss\\n");
  for (let s = 1; s <= 3; s++) {
    fs.appendFileSync("history.csv", s + "," + (1 / s) + "\\n");
    await sleep(50);
  }
  while (!fs.existsSync("go")) await sleep(50);
  fs.writeFileSync("model.bin", "m");
})();
`;

const pipeline = `stages:
  train:
    cmd: node train.js
    deps: [train.js]
    outs: [model.bin]
    plots: [history.csv]
  broken:
    cmd: node -e "process.exit(3)"
`;

const changedRuns = (events: DaemonEvent[]) =>
  new Set(events.flatMap((e) => (e.type === "runs/changed" ? [e.runId] : [])));

/** The first run the stream named that is a running `train` with its table's three rows. */
async function runningWithPoints(stream: Stream): Promise<RunDetail> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const id of changedRuns(stream.events)) {
      const run = (await t.get(`/api/v1/runs/${id}`)).json as RunDetail;
      if (run.stage === "train" && run.status === "RUNNING" && run.metrics.loss?.step === 3) {
        return run;
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no running run with points; heard ${JSON.stringify(stream.events)}`);
}

let t: TrackingDaemon;
/** The run of `train` that the first test's repro made. */
let trainRunId: string;

before(async () => {
  t = await trackingDaemon("lathe-cli-events-");
  writeFiles(t.root, { "lathe.yaml": pipeline, "train.js": trainScript });
});

after(async () => {
  await t.close();
});

test("a CLI repro's runs and live points reach the daemon's event stream", async () => {
  const stream = await subscribe(t);
  try {
    const cli = runCli(["--json", "repro", "train"], { cwd: t.root, timeoutMs: 60_000 });

    // While the stage still waits for `go`, the stream must already name a running run that
    // has the table's rows as points: the editor's chart grows live.
    await stream.until("progress of train", (events) =>
      events.some(
        (e) => e.type === "repro/progress" && e.stage === "train" && e.status === "running",
      ),
    );
    const live = await runningWithPoints(stream);
    assert.equal(live.metrics.loss!.value, 1 / 3);
    writeFileSync(join(t.root, "go"), "");

    const result = await cli;
    assert.equal(result.code, 0, result.stderr);
    const repro = JSON.parse(result.stdout) as ReproResult;
    const train = repro.stages.find((s) => s.stage === "train")!;
    assert.equal(train.status, "ran");
    assert.equal(train.runId, live.id);
    trainRunId = train.runId!;
    // The CLI sends its last batch before it exits: both runs are named, the finished one too.
    await stream.until("runs/changed for the CLI's runs", (events) => {
      const ids = changedRuns(events);
      return ids.has(repro.parentRunId) && ids.has(train.runId!);
    });
    await stream.until("train's final progress", (events) =>
      events.some((e) => e.type === "repro/progress" && e.stage === "train" && e.status === "ran"),
    );
    const finished = (await t.get(`/api/v1/runs/${train.runId}`)).json as RunDetail;
    assert.equal(finished.status, "FINISHED");
  } finally {
    stream.close();
  }
});

test("a stage that fails before writing any file is still announced", async () => {
  const stream = await subscribe(t);
  try {
    const result = await runCli(["--json", "repro", "broken"], { cwd: t.root, timeoutMs: 60_000 });
    assert.equal(result.code, 2, result.stderr);
    const runId = (JSON.parse(result.stdout) as ReproResult).stages[0]!.runId!;
    await stream.until("runs/changed for the failed run", (events) =>
      changedRuns(events).has(runId),
    );
    const run = (await t.get(`/api/v1/runs/${runId}`)).json as RunDetail;
    assert.equal(run.status, "FAILED");
  } finally {
    stream.close();
  }
});

const someRun = () => "0".repeat(32);

test("POST /api/v1/events refuses what a CLI may not report, naming the field", async () => {
  const cases: [unknown, number, RegExp][] = [
    [{}, 400, /events/],
    [{ events: [] }, 400, /events/],
    [
      { events: [{ type: "models/changed", model: "m" }] },
      400,
      /events\.0\.type must be equal to one of the allowed values \("runs\/changed", "repro\/progress"\)/,
    ],
    [{ events: [{ type: "pipeline/changed", path: "x" }] }, 400, /events\.0\.type/],
    [
      { events: [{ type: "runs/changed", runId: "not-an-id" }] },
      400,
      /events\.0\.runId must match/,
    ],
    [
      { events: [{ type: "runs/changed", runId: someRun(), extra: 1 }] },
      400,
      /events\.0 unknown field 'extra'/,
    ],
    [
      { events: [{ type: "repro/progress", stage: "train", status: "exploded" }] },
      400,
      /events\.0\.status must be equal to one of the allowed values \("running", /,
    ],
    [{ events: [{ type: "repro/progress", stage: "", status: "ran" }] }, 400, /events\.0\.stage/],
    [
      { events: [{ type: "runs/changed", runId: someRun() }], more: true },
      400,
      /unknown field 'more'/,
    ],
    [{ events: [{ type: "runs/changed", runId: someRun() }] }, 404, new RegExp(someRun())],
  ];
  const heard: DaemonEvent[] = [];
  const off = t.daemon.ctx.events.on((e) => heard.push(e));
  try {
    for (const [body, status, message] of cases) {
      const reply = await t.post("/api/v1/events", body);
      assert.equal(reply.status, status, `${JSON.stringify(body)}: ${reply.text}`);
      assert.match((reply.json as { message: string }).message, message, JSON.stringify(body));
    }
    const noToken = await t.call("POST", "/api/v1/events", { events: [] }, { Authorization: "" });
    assert.equal(noToken.status, 401);
    // Nothing refused was re-emitted, not even the valid events of a refused batch.
    assert.deepEqual(
      heard.filter((e) => e.type !== "pipeline/changed"),
      [],
    );

    const ok = await t.post("/api/v1/events", {
      events: [{ type: "repro/progress", stage: "train", status: "ran" }],
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(heard.at(-1), { type: "repro/progress", stage: "train", status: "ran" });
  } finally {
    off();
  }
});

test("a burst of events reaches the daemon coalesced, and close() sends the rest", async () => {
  // As the CLI does: its own context on the workspace, a handle on the daemon it found.
  const cli = openContext(t.root, { quiet: true });
  const heard: DaemonEvent[] = [];
  const off = t.daemon.ctx.events.on((e) => e.type !== "pipeline/changed" && heard.push(e));
  try {
    const forwarder = forwardEvents(cli, connect(t.daemon.info), { delayMs: 10_000 });
    for (let i = 0; i < 500; i++) {
      cli.events.emit({ type: "runs/changed", runId: trainRunId });
    }
    cli.events.emit({ type: "repro/progress", stage: "train", status: "running" });
    cli.events.emit({ type: "repro/progress", stage: "train", status: "ran" });
    cli.events.emit({ type: "models/changed", model: "not forwarded" });
    assert.deepEqual(heard, [], "nothing is sent before the delay");
    await forwarder.close();
    assert.deepEqual(heard, [
      { type: "runs/changed", runId: trainRunId },
      { type: "repro/progress", stage: "train", status: "ran" },
    ]);
  } finally {
    off();
    closeContext(cli);
  }
});

test("a daemon that goes away mid-repro neither fails nor holds up the CLI", async () => {
  writeFileSync(join(t.root, "train.js"), trainScript + "\n// changed\n");
  const stream = await subscribe(t);
  const cli = runCli(["--json", "repro", "train"], { cwd: t.root, timeoutMs: 60_000 });
  await stream.until("progress of train", (events) =>
    events.some(
      (e) => e.type === "repro/progress" && e.stage === "train" && e.status === "running",
    ),
  );
  stream.close();
  await t.daemon.close();
  const started = Date.now();
  writeFileSync(join(t.root, "go"), "");
  const result = await cli;
  assert.equal(result.code, 0, result.stderr);
  assert.equal((JSON.parse(result.stdout) as ReproResult).stages[0]!.status, "ran");
  assert.ok(Date.now() - started < 10_000, `the CLI took ${Date.now() - started} ms after go`);
});
