/**
 * A deployment whose worker cannot come back is given up on (#5): the worker is killed with
 * SIGKILL and its model file is gone from the content store, so every restart fails to load; after
 * 8 restarts in a row the deployment stays failed and says what to do. Real worker processes and
 * SQLite on disk; the supervisor is built here with a 5 ms first backoff (the daemon's is 250 ms,
 * doubling to 10 s) so the eight tries take about a second and a half.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { closeContext, openContext } from "../../daemon/src/context";
import { objectPath } from "../../daemon/src/data/objects";
import { register } from "../../daemon/src/registry/register";
import { Supervisor } from "../../daemon/src/serving/supervisor";
import { linearSoftmaxModel, seedRun } from "../fixtures/onnx";
import { removeDir, tempDir } from "../helpers";

void test("a worker that keeps failing to come back is given up on after 8 restarts", async () => {
  const root = await tempDir("lathe-give-up-");
  const ctx = openContext(root, { quiet: true });
  const supervisor = new Supervisor(ctx, { restartDelayMs: 5 });
  try {
    const { runId, oid } = seedRun(ctx.db, ctx.ws.objectsDir, linearSoftmaxModel());
    register(ctx, { model: "m", runId });
    const served = await supervisor.deploy({ model: "m" }, "token");
    assert.equal(served.state, "ready");

    const states: string[] = [];
    const off = ctx.events.on((event) => {
      if (event.type === "deployments/changed" && event.name === "m") {
        states.push(supervisor.get("m").state);
      }
    });
    rmSync(objectPath(ctx.ws, oid));
    process.kill(served.pid!, "SIGKILL");

    const until = Date.now() + 60_000;
    let row = supervisor.get("m");
    while (!/gave up/.test(row.error ?? "")) {
      assert.ok(Date.now() < until, `still ${row.state}: ${row.error ?? ""}`);
      await new Promise((r) => setTimeout(r, 20));
      row = supervisor.get("m");
    }
    off();
    assert.equal(row.state, "failed");
    assert.equal(row.pid, null);
    assert.match(row.error!, /Lathe gave up after 8 restarts; see \.lathe\/logs\/serving-m\.log/);
    assert.match(row.error!, /deploy again/);
    // Each of the 8 tries went through `restarting`, and nothing is tried after the last.
    assert.equal(states.filter((s) => s === "restarting").length, 8, states.join(" "));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(supervisor.get("m").state, "failed");
  } finally {
    await supervisor.stopAll();
    closeContext(ctx);
    await removeDir(root);
  }
});
