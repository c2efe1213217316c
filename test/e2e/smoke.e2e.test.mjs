// Smoke tests of the shipped artifact (run by scripts/test-e2e.sh after scripts/package.mjs):
//  1. the .vsix, unzipped into a folder outside the repo, runs on its own with this node: the CLI
//     answers --version, the daemon starts and answers health (better-sqlite3 loaded), and
//     onnxruntime-node from the .vsix runs a model;
//  2. the .vsix installed in a real VS Code (code-server) activates on a workspace with a lathe.yaml:
//     the Lathe activity-bar container appears, the status bar shows "Lathe", and the daemon it
//     starts writes .lathe/daemon.json and answers health. Screenshots: test-results/e2e/smoke/;
//  3. in a folder without a pipeline file the extension waits, and starts once lathe.yaml appears.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  activityBarItem,
  launch,
  openViewContainer,
  repoRoot,
  runCommand,
  statusBarText,
  waitFor,
  waitForOutcome,
  withTimeout,
} from "./harness.mjs";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
const vsix = process.env.LATHE_VSIX ?? join(repoRoot, ".e2e", `lathe-${pkg.version}.vsix`);
const LATHE_YAML = `# smoke-test pipeline
stages:
  hello:
    cmd: node -e "require('fs').writeFileSync('hello.txt', 'hi')"
    outs: [hello.txt]
`;

/** GET /api/v1/health of the daemon described by a daemon.json object. */
async function health(info) {
  const res = await fetch(`http://127.0.0.1:${info.port}/api/v1/health`, {
    headers: { Authorization: `Bearer ${info.token}` },
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(res.status, 200, `health answered ${res.status}`);
  return res.json();
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  "the .vsix runs on its own, unzipped outside the repo, with this node",
  { timeout: 120_000 },
  async (t) => {
    assert.ok(existsSync(vsix), `${vsix} is missing: run node scripts/package.mjs`);
    const dir = mkdtempSync(join(tmpdir(), "lathe-vsix-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const unzip = spawnSync("unzip", ["-q", vsix, "-d", join(dir, "vsix")], { encoding: "utf8" });
    assert.equal(unzip.status, 0, unzip.stderr);
    const dist = join(dir, "vsix", "extension", "dist");
    const cli = join(dist, "lathe.js");

    // Native modules resolve inside the unzipped copy, never from the repo's node_modules.
    for (const name of ["better-sqlite3", "onnxruntime-node"]) {
      const resolved = createRequire(join(dist, "x.js")).resolve(name);
      assert.ok(
        resolved.startsWith(join(dist, "node_modules", name)),
        `${name} resolved to ${resolved}`,
      );
    }

    const version = spawnSync(process.execPath, [cli, "--version"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);

    // onnxruntime-node from the .vsix runs a model (Y = X + X), built here with onnx-proto.
    const { onnx } = createRequire(join(repoRoot, "package.json"))("onnx-proto");
    const FLOAT = onnx.TensorProto.DataType.FLOAT;
    const vi = (name) => ({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 2 }] } } },
    });
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "double",
        node: [{ opType: "Add", input: ["X", "X"], output: ["Y"] }],
        input: [vi("X")],
        output: [vi("Y")],
      },
    }).finish();
    writeFileSync(join(dir, "double.onnx"), model);
    const infer = spawnSync(
      process.execPath,
      [
        "-e",
        `const ort = require(${JSON.stringify(join(dist, "node_modules", "onnxruntime-node"))});
       ort.InferenceSession.create("double.onnx").then(async (s) => {
         const out = await s.run({ X: new ort.Tensor("float32", Float32Array.from([1.5, -2]), [2]) });
         console.log(JSON.stringify(Array.from(out.Y.data)));
       }).catch((e) => { console.error(e); process.exit(1); });`,
      ],
      { cwd: dir, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(infer.status, 0, infer.stderr);
    assert.deepEqual(JSON.parse(infer.stdout), [3, -4]);

    // The daemon starts from the unzipped copy and answers health (it opens the SQLite store).
    const ws = join(dir, "ws");
    spawnSync("mkdir", ["-p", ws]);
    writeFileSync(join(ws, "lathe.yaml"), LATHE_YAML);
    const started = Date.now();
    const daemon = spawn(process.execPath, [cli, "daemon", "--root", ws], {
      cwd: ws,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    daemon.stderr.on("data", (c) => (stderr += c));
    t.after(() => daemon.kill("SIGKILL"));
    const file = join(ws, ".lathe", "daemon.json");
    const info = await waitFor(() => existsSync(file) && JSON.parse(readFileSync(file, "utf8")), {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: `daemon.json (stderr: ${stderr})`,
    });
    assert.equal(info.pid, daemon.pid);
    const body = await health(info);
    t.diagnostic(
      `daemon from the unzipped .vsix answered health in ${Date.now() - started} ms: ${JSON.stringify(body)}`,
    );
    assert.ok(existsSync(join(ws, ".lathe")), "the daemon made .lathe/");

    const exited = new Promise((r) => daemon.once("exit", (code, signal) => r(code ?? signal)));
    daemon.kill("SIGTERM");
    assert.equal(await withTimeout(exited, 15_000, "daemon to stop on SIGTERM"), 0);
    assert.equal(existsSync(file), false, "daemon.json is removed on exit");
  },
);

test(
  "the .vsix activates in VS Code: Lathe container, status bar, daemon",
  { timeout: 240_000 },
  async (t) => {
    const s = await launch({ name: "smoke", vsix, workspaceFiles: { "lathe.yaml": LATHE_YAML } });
    let ok = false;
    t.after(async () => {
      if (!ok) {
        await s.shot("failure").catch(() => {});
        t.diagnostic(
          `run folder ${s.runDir}; logs:\n${s.logs(/exthost|Lathe|code-server\.log/).slice(-6000)}`,
        );
      }
      await s.close({ keep: !ok || undefined });
    });
    const t0 = Date.now();

    await activityBarItem(s.page, "Lathe").waitFor({ state: "visible", timeout: 60_000 });
    t.diagnostic(`Lathe activity-bar container after ${Date.now() - t0} ms`);

    // A command run as the window opens waits for the daemon that is still starting, instead of
    // failing with "not running" (a new user's first click, as the trial found).
    await runCommand(s.page, "Lathe: Reproduce Pipeline");
    await waitForOutcome(s.page, /Pipeline reproduced: 1 ran/, /Reproducing the pipeline failed/, {
      timeoutMs: 90_000,
    });
    t.diagnostic(`reproduced right after opening, ${Date.now() - t0} ms in`);

    await waitFor(async () => /Lathe/.test(await statusBarText(s.page)), {
      timeoutMs: 60_000,
      what: '"Lathe" in the status bar',
    });
    t.diagnostic(`status bar: ${JSON.stringify(await statusBarText(s.page))}`);

    const info = await s.daemonInfo({ timeoutMs: 60_000 });
    t.diagnostic(`daemon pid ${info.pid} port ${info.port} after ${Date.now() - t0} ms`);
    assert.equal(realpathSync(info.root), realpathSync(s.workspace));
    assert.ok(pidAlive(info.pid), "the daemon named in daemon.json is alive");
    // It runs under lathe.nodePath (this node), not some other binary.
    assert.equal(realpathSync(`/proc/${info.pid}/exe`), realpathSync(process.execPath));
    await health(info);

    await openViewContainer(s.page, "Lathe");
    await s.page.waitForTimeout(1_000);
    await s.shot("activated");
    ok = true;
  },
);

test(
  "a folder without lathe.yaml waits; Create lathe.yaml in the Runs view starts Lathe",
  { timeout: 240_000 },
  async (t) => {
    const s = await launch({
      name: "smoke-late",
      vsix,
      workspaceFiles: { "README.md": "empty\n" },
    });
    let ok = false;
    t.after(async () => {
      if (!ok) {
        await s.shot("failure").catch(() => {});
        t.diagnostic(`logs:\n${s.logs(/exthost|Lathe/).slice(-6000)}`);
      }
      await s.close({ keep: !ok || undefined });
    });

    // Opening the Lathe container activates the extension; with no pipeline file it stays idle.
    await openViewContainer(s.page, "Lathe");
    const welcome = s.page.locator(".welcome-view-content", { hasText: "no lathe.yaml yet" });
    await welcome.first().waitFor({ state: "visible", timeout: 60_000 });
    assert.equal(existsSync(join(s.workspace, ".lathe", "daemon.json")), false);
    await s.shot("idle");

    // The welcome view's button writes a starter lathe.yaml and opens it; Lathe then starts.
    await welcome.getByRole("button", { name: "Create lathe.yaml" }).first().click();
    await s.page
      .locator(".tabs-container .tab", { hasText: "lathe.yaml" })
      .first()
      .waitFor({ state: "visible", timeout: 30_000 });
    assert.match(readFileSync(join(s.workspace, "lathe.yaml"), "utf8"), /^stages:$/m);

    const info = await s.daemonInfo({ timeoutMs: 60_000 });
    assert.equal(realpathSync(info.root), realpathSync(s.workspace));
    await health(info);
    await s.page
      .locator(".welcome-view-content", { hasText: "No runs yet" })
      .first()
      .waitFor({ state: "visible", timeout: 60_000 });
    await waitFor(async () => /(^|\n)Lathe$/m.test(await statusBarText(s.page)), {
      timeoutMs: 30_000,
      what: '"Lathe" in the status bar',
    });
    await s.shot("started");
    ok = true;
  },
);
