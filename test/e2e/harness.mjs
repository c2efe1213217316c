/**
 * Real-editor test harness: a throwaway code-server 4.100.3 (VS Code 1.100.3, Node extension host)
 * with the Lathe .vsix installed, driven by playwright-core in Debian's headless Chromium.
 * Recipe and pitfalls: /work/shared/e2e.md. Setup: `bash scripts/e2e-setup.sh`; the .vsix:
 * `node scripts/package.mjs`; everything at once: `npm run test:e2e` (scripts/test-e2e.sh).
 *
 * ── API ─────────────────────────────────────────────────────────────────────────────────────────
 *
 *   import { launch, runCommand, treeRow, statusBarText, waitForToast } from "./harness.mjs";
 *
 *   (launch and the session are here; the workbench helpers live in workbench.mjs and are
 *   re-exported, so tests import everything from harness.mjs.)
 *
 *   const s = await launch({
 *     vsix,              // path of the .vsix to install (default: $LATHE_VSIX, else the newest
 *                        //   .e2e/lathe-*.vsix); pass `vsix: false` to start without it
 *     workspaceDir,      // a folder to COPY into the run folder as the workspace (its .lathe/,
 *                        //   node_modules/ and .git/ are left out), or
 *     workspaceFiles,    // { "lathe.yaml": "...", "data/x.csv": Buffer|string } written into it
 *                        //   (both may be given: files are written over the copy)
 *     settings,          // extra user settings, merged over the defaults below
 *     shotsDir,          // where shot() writes PNGs (default test-results/e2e/<name>)
 *     name,              // label for the run folder and the default shotsDir (default "run")
 *     timeoutMs,         // for starting the server and waiting for the workbench (default 90 s)
 *   });
 *
 *   s.page               // playwright Page showing the workbench of http://127.0.0.1:<port>/?folder=…
 *   s.browser, s.port, s.url
 *   s.runDir             // .e2e/run-XXXX: home/, data/ (user data, logs), extensions/, workspace/
 *   s.workspace          // absolute path of the opened folder (runDir/workspace)
 *   await s.shot(name)               // screenshot → <shotsDir>/<name>.png; returns the path
 *   await s.runCommand(title, opts)  // = runCommand(s.page, title, opts)
 *   await s.waitForFile(rel, opts)   // waits until <workspace>/<rel> exists; returns its path
 *   await s.daemonInfo(opts)         // waits for <workspace>/.lathe/daemon.json, returns it parsed
 *   s.logs(filter?)                  // text of code-server's and VS Code's logs (string/RegExp on
 *                                    //   the file path, e.g. /Lathe/ for the Lathe output channel)
 *   await s.close({ keep })          // closes Chromium, kills code-server's process group, stops the
 *                                    //   workspace daemon and any process still running in runDir,
 *                                    //   then deletes runDir unless keep (or LATHE_E2E_KEEP=1): pass
 *                                    //   keep: true when the test failed, to look at the logs
 *
 *   Helpers (all take the Page; every wait has its own timeout, default 30 s, and throws on expiry):
 *   await runCommand(page, "Lathe: Reproduce Pipeline")   // F1, type, click the row with EXACTLY
 *                                                          // that label (never Enter)
 *   await walk(s, walkThrough, { timeoutMs, what })  // timeout, failure shot + log, close
 *   daemonApi(await s.daemonInfo())("GET", "/api/v1/runs")  // JSON calls to the daemon
 *   await collapseViews(page, ["Models", "Deployments"])  // give the other views the height
 *   await contextMenu(page, row, "Register Model…")      // right-click row, run that item
 *                                                          // (retried: see its comment)
 *   treeRow(page, "run 1" | /^run \d/, { view: "Runs" })  // Locator of tree/list rows inside
 *                                        // view panes (of one view, when `view` is given)
 *   await statusBarText(page)            // all status bar items' text, one per line
 *   await waitForToast(page, "Reproduced" | /regex/)  // Locator of the visible notification toast
 *   await openViewContainer(page, "Lathe")            // clicks the activity-bar icon of that title
 *   activityBarItem(page, "Lathe")       // Locator of that activity-bar icon
 *   webviewFrame(page)                   // FrameLocator of the active webview's content
 *   await waitFor(fn, { timeoutMs, intervalMs, what })  // polls an async predicate until truthy
 *   await withTimeout(promise, ms, what)                // rejects after ms (node:test's own timeout
 *                                                        // does not stop a hung await)
 *
 * Pattern for a test (a hang then ends at the test's timeout, and close() still runs):
 *
 *   test("…", { timeout: 240_000 }, async (t) => {
 *     const s = await launch({ name: "mytest", workspaceDir: "examples/weather" });
 *     let ok = false;
 *     t.after(async () => { if (!ok) await s.shot("failure").catch(() => {}); await s.close({ keep: !ok || undefined }); });
 *     …; ok = true;
 *   });
 *
 * Environment: LATHE_VSIX (the .vsix), CODE_SERVER_BIN, LATHE_E2E_CHROMIUM (default
 * /usr/bin/chromium), LATHE_E2E_KEEP=1 (keep run folders); scripts/test-e2e.sh also reads
 * LATHE_E2E_TIMEOUT (seconds for the whole node:test run, default 1200).
 *
 * ── What launch() does ──────────────────────────────────────────────────────────────────────────
 *   - a fresh run folder .e2e/run-<name>-XXXX; HOME and XDG_* of code-server, of the extension host
 *     (so of the daemon it spawns) and of Chromium point inside it: nothing is written to $HOME;
 *   - user settings: the e2e.md defaults (no trust prompt, no telemetry, no git parent prompt...)
 *     plus `lathe.nodePath` = this node (process.execPath), so the daemon runs under the node that
 *     built dist/node_modules/better-sqlite3;
 *   - `code-server --install-extension <vsix>`, then code-server on a free port of 127.0.0.1 (a
 *     secure context: webviews need it) in its own process group; waits for /healthz;
 *   - Chromium headless with e2e.md's flags; opens the folder; waits for the activity bar.
 *   A process 'exit' (and SIGINT/SIGTERM) handler kills whatever a session left running.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  closeSync,
} from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { DEFAULT_WAIT, waitFor, withTimeout } from "./workbench.mjs";

export * from "./workbench.mjs";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CODE_SERVER_BIN =
  process.env.CODE_SERVER_BIN ??
  join(repoRoot, "test", "e2e", "code-server", "node_modules", ".bin", "code-server");
export const CHROMIUM_BIN = process.env.LATHE_E2E_CHROMIUM ?? "/usr/bin/chromium";

export const DEFAULT_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "chat.disableAIFeatures": true,
  "git.openRepositoryInParentFolders": "never",
  "git.enabled": false,
  "files.watcherExclude": { "**/.lathe/**": true },
};

// ── cleanup of everything a session started, even when a test crashes ────────────────────────────
const live = new Set();
function sweepAll() {
  for (const s of live) s.killSync();
}
process.on("exit", sweepAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    sweepAll();
    process.exit(128 + (sig === "SIGINT" ? 2 : 15));
  });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function newestVsix() {
  const dir = join(repoRoot, ".e2e");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^lathe-.*\.vsix$/.test(f))
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  if (!files[0])
    throw new Error("harness: no .e2e/lathe-*.vsix; run `node scripts/package.mjs` first");
  return files[0];
}

function walkFiles(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}

/** Pids of processes whose command line or working folder lies inside `dir` (Linux /proc). */
function processesInside(dir) {
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ");
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${name}/cwd`);
      } catch {
        // Not ours to read, or gone.
      }
      if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(dir + "/"))
        pids.push(Number(name));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

// ── launch ───────────────────────────────────────────────────────────────────────────────────────
export async function launch(options = {}) {
  const { workspaceDir, workspaceFiles, settings = {}, name = "run", timeoutMs = 90_000 } = options;
  const vsix =
    options.vsix === false
      ? undefined
      : resolve(options.vsix ?? process.env.LATHE_VSIX ?? newestVsix());
  if (!existsSync(CODE_SERVER_BIN)) {
    throw new Error(
      `harness: ${CODE_SERVER_BIN} is missing; run \`bash scripts/e2e-setup.sh\` first`,
    );
  }
  mkdirSync(join(repoRoot, ".e2e"), { recursive: true });
  const runDir = mkdtempSync(join(repoRoot, ".e2e", `run-${name.replace(/[^\w-]/g, "_")}-`));
  const shotsDir = resolve(options.shotsDir ?? join(repoRoot, "test-results", "e2e", name));
  const home = join(runDir, "home");
  const dataDir = join(runDir, "data");
  const extDir = join(runDir, "extensions");
  const workspace = join(runDir, "workspace");
  const config = join(runDir, "config.yaml");
  for (const d of [home, join(dataDir, "User"), extDir, workspace, shotsDir])
    mkdirSync(d, { recursive: true });
  writeFileSync(config, "bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n");
  writeFileSync(
    join(dataDir, "User", "settings.json"),
    JSON.stringify(
      { ...DEFAULT_SETTINGS, "lathe.nodePath": process.execPath, ...settings },
      null,
      2,
    ),
  );
  if (workspaceDir) {
    const src = resolve(workspaceDir);
    cpSync(src, workspace, {
      recursive: true,
      filter: (p) => !/(^|\/)(\.lathe|node_modules|\.git)(\/|$)/.test(relative(src, p)),
    });
  }
  for (const [rel, content] of Object.entries(workspaceFiles ?? {})) {
    mkdirSync(dirname(join(workspace, rel)), { recursive: true });
    writeFileSync(join(workspace, rel), content);
  }

  const env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(VSCODE_|ELECTRON_)/.test(k)),
    ),
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
  };
  const dirs = ["--config", config, "--user-data-dir", dataDir, "--extensions-dir", extDir];

  const session = {
    runDir,
    workspace,
    shotsDir,
    vsix,
    server: undefined,
    browser: undefined,
    page: undefined,
    port: undefined,
    url: undefined,
    closed: false,
    /** Synchronous last resort (exit handler): kill the server group and anything in runDir. */
    killSync() {
      if (session.server?.pid) killQuietly(-session.server.pid, "SIGKILL");
      for (const pid of processesInside(runDir)) killQuietly(pid, "SIGKILL");
      live.delete(session);
    },
  };
  live.add(session);

  try {
    if (vsix) {
      const r = spawnSync(CODE_SERVER_BIN, [...dirs, "--install-extension", vsix, "--force"], {
        env,
        encoding: "utf8",
        timeout: 120_000,
      });
      writeFileSync(join(runDir, "install-extension.log"), `${r.stdout}\n${r.stderr}`);
      if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
        throw new Error(
          `harness: installing ${vsix} failed (${r.status ?? r.signal ?? r.error}):\n${r.stdout}\n${r.stderr}`,
        );
      }
    }

    const port = await freePort();
    session.port = port;
    const logFd = openSync(join(runDir, "code-server.log"), "a");
    session.server = spawn(
      CODE_SERVER_BIN,
      [
        ...dirs,
        "--auth",
        "none",
        "--bind-addr",
        `127.0.0.1:${port}`,
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
        workspace,
      ],
      { env, cwd: runDir, detached: true, stdio: ["ignore", logFd, logFd] },
    );
    closeSync(logFd);
    let exited;
    session.server.once("exit", (code, signal) => (exited = `${code ?? signal}`));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (exited !== undefined)
          throw new Error(
            `code-server exited (${exited}):\n${session.logs(/code-server\.log$/).slice(-2000)}`,
          );
        const res = await fetch(`${base}/healthz`);
        return res.ok;
      },
      { timeoutMs, intervalMs: 200, what: "code-server /healthz" },
    );

    session.browser = await withTimeout(
      chromium.launch({
        executablePath: CHROMIUM_BIN,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-dev-shm-usage",
        ],
        env,
        timeout: timeoutMs,
      }),
      timeoutMs,
      "Chromium to start",
    );
    const context = await session.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const consoleLog = join(runDir, "browser-console.log");
    page.on("console", (m) => {
      try {
        writeFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`, { flag: "a" });
      } catch {
        // The run folder may be gone at the very end.
      }
    });
    session.page = page;
    session.url = `${base}/?folder=${encodeURIComponent(workspace)}`;
    await page.goto(session.url, { timeout: timeoutMs });
    await page
      .locator(".monaco-workbench .part.activitybar")
      .waitFor({ state: "visible", timeout: timeoutMs });
  } catch (err) {
    await close({ keep: true }).catch(() => {});
    if (err instanceof Error) err.message += `\n(harness run folder: ${runDir})`;
    throw err;
  }

  async function close({ keep = process.env.LATHE_E2E_KEEP === "1" } = {}) {
    if (session.closed) return;
    session.closed = true;
    await withTimeout(
      session.browser?.close() ?? Promise.resolve(),
      15_000,
      "Chromium to close",
    ).catch(() => {});
    if (session.server?.pid) killQuietly(-session.server.pid, "SIGTERM");
    // The daemon is detached from the extension host (it outlives the editor on purpose): stop it.
    const daemonFile = join(workspace, ".lathe", "daemon.json");
    if (existsSync(daemonFile)) {
      try {
        killQuietly(JSON.parse(readFileSync(daemonFile, "utf8")).pid, "SIGTERM");
      } catch {
        // Half-written or removed meanwhile.
      }
    }
    await waitFor(() => processesInside(runDir).length === 0, {
      timeoutMs: 10_000,
      what: "processes to stop",
    }).catch(() => {});
    session.killSync();
    if (!keep) rmSync(runDir, { recursive: true, force: true });
  }

  Object.assign(session, {
    close,
    shot: async (shotName) => {
      const file = join(shotsDir, `${shotName.replace(/[^\w.-]/g, "_")}.png`);
      await session.page.screenshot({ path: file, timeout: DEFAULT_WAIT });
      return file;
    },
    runCommand: (title, opts) => runCommand(session.page, title, opts),
    waitForFile: async (rel, { timeoutMs: t = DEFAULT_WAIT } = {}) => {
      const p = join(workspace, rel);
      await waitFor(() => existsSync(p), { timeoutMs: t, what: `${rel} in the workspace` });
      return p;
    },
    daemonInfo: async ({ timeoutMs: t = DEFAULT_WAIT } = {}) => {
      const p = join(workspace, ".lathe", "daemon.json");
      return waitFor(() => JSON.parse(readFileSync(p, "utf8")), {
        timeoutMs: t,
        what: ".lathe/daemon.json",
      });
    },
    logs: (filter) => {
      const files = [
        join(runDir, "code-server.log"),
        join(runDir, "install-extension.log"),
        ...walkFiles(join(dataDir, "logs")),
      ]
        .filter((f) => existsSync(f))
        .filter(
          (f) => !filter || (typeof filter === "string" ? f.includes(filter) : filter.test(f)),
        );
      return files
        .map((f) => `==> ${relative(runDir, f)} <==\n${readFileSync(f, "utf8")}`)
        .join("\n");
    },
  });
  return session;
}
