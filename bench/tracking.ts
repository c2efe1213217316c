/**
 * Tracking speed (issue #3), each measure against its reference in the same run, ratio printed:
 *
 * 1. ingest: metric points through the daemon's HTTP batch API (a separate daemon process,
 *    batches of 1,000, one client connection with keep-alive) against raw better-sqlite3 inserts
 *    of the same points into the same schema (Lathe's migrations, WAL, one transaction and one
 *    prepared statement per 1,000). Goal: Lathe ≥ 0.5 of raw.
 * 2. list: GET /api/v1/runs of 10,000 runs (5 params, 3 metrics, 2 tags each) and a filtered,
 *    metric-ordered POST /api/v1/runs/search, against raw SQL reading the same rows. Goal < 200 ms.
 * 3. history: GET /api/v1/runs/:id/metrics/history of a 1,000,000-point metric downsampled to
 *    2,000 points, by step and by time (x=time), whole and zoomed, against a raw SQL scan of the
 *    same rows. Goal < 50 ms.
 *
 * Run: npm run build && node --import tsx bench/tracking.ts [ingest|list|history ...]
 * Medians of repeated runs; the machine's load is printed with them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { findDaemon } from "../daemon/src/client";
import { openDb, type Db } from "../daemon/src/store/db";
import { ensureExperiment } from "../daemon/src/store/experiments";
import {
  createRun,
  finishRun,
  listRuns,
  logMetrics,
  logParams,
  setRunTags,
} from "../daemon/src/store/runs";
import { listRunsJson } from "../daemon/src/store/runs-json";
import { metricHistoryFor } from "../daemon/src/tracking/history";

const root = join(__dirname, "..");
const which = process.argv.slice(2);
const wants = (name: string) => which.length === 0 || which.includes(name);

interface Daemon {
  port: number;
  token: string;
  child: ChildProcess;
  agent: Agent;
}

async function startDaemon(ws: string): Promise<Daemon> {
  // LATHE_BENCH_NODE_ARGS passes flags to the daemon's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.LATHE_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(root, "dist", "lathe.js"), "daemon", "--root", ws],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 400; i++) {
    const found = await findDaemon(ws);
    if (found && found.info.pid === child.pid) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      return { port: found.info.port, token: found.info.token, child, agent };
    }
    await sleep(25);
  }
  throw new Error("the daemon did not start");
}

async function stopDaemon(d: Daemon): Promise<void> {
  d.agent.destroy();
  const exited = new Promise((r) => d.child.once("exit", r));
  d.child.kill("SIGTERM");
  await exited;
}

function call(d: Daemon, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${d.token}` };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const req = request(
      { host: "127.0.0.1", port: d.port, method, path, headers, agent: d.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 400) {
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
          } else {
            resolve(text);
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function timeRuns(n: number, fn: () => unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/** CPU milliseconds (user + system) a process has used so far, from /proc (Linux). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU milliseconds (user + system) of each of `n` in-process calls: less moved by other load. */
function cpuRuns(n: number, fn: () => unknown): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1000);
  }
  return times;
}

/** A fresh workspace (its `.lathe/` made, as `lathe init` would, so the daemon accepts it). */
function workspace(name: string): string {
  const ws = mkdtempSync(join(tmpdir(), `lathe-bench-${name}-`));
  mkdirSync(join(ws, ".lathe"));
  return ws;
}

// ---- 1. ingest --------------------------------------------------------------------------------

const BATCH = 1000;
const BATCHES = 200;
const KEYS = ["loss", "accuracy", "val_loss", "val_accuracy", "lr"];

/** The points of batch `b`: 200 steps of 5 keys, one timestamp per step. */
function batchPoints(b: number): { key: string; value: number; step: number; timestamp: number }[] {
  const points = [];
  const base = 1_700_000_000_000;
  for (let i = 0; i < BATCH; i++) {
    const step = b * (BATCH / KEYS.length) + Math.floor(i / KEYS.length);
    points.push({
      key: KEYS[i % KEYS.length]!,
      value: Math.sin(step) + i * 1e-6,
      step,
      timestamp: base + step,
    });
  }
  return points;
}

async function benchIngest(): Promise<void> {
  const bodies = Array.from({ length: BATCHES }, (_, b) =>
    JSON.stringify({ metrics: batchPoints(b) }),
  );
  const rounds = 5;
  const lathe: number[] = [];
  const foldCpu: number[] = [];
  const raw: number[] = [];
  const latheCpu: number[] = [];
  const rawCpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Lathe: a fresh workspace and daemon each round, one run, every batch over HTTP.
    const ws = workspace("ingest");
    const d = await startDaemon(ws);
    const db = openDb(join(ws, ".lathe", "lathe.db"));
    const runId = createRun(db, { experimentId: ensureExperiment(db, "bench").id, name: "ingest" });
    db.close();
    const t0 = performance.now();
    const cpu0 = processCpuMs(d.child.pid!);
    for (const body of bodies) {
      await call(d, "POST", `/api/v1/runs/${runId}/batch`, body);
    }
    lathe.push(performance.now() - t0);
    latheCpu.push(processCpuMs(d.child.pid!) - cpu0);
    // The rollups of those points are folded after the requests (store/rollups.ts): wait for
    // the queue to drain and count that CPU too.
    const dbFile = join(ws, ".lathe", "lathe.db");
    const check = openDb(dbFile);
    const queued = check.prepare("SELECT COUNT(*) FROM metric_rollups_queue").pluck();
    while ((queued.get() as number) > 0) {
      await sleep(10);
    }
    check.close();
    foldCpu.push(processCpuMs(d.child.pid!) - cpu0);
    await stopDaemon(d);
    rmSync(ws, { recursive: true, force: true });

    // Raw: the same points into the same schema, a prepared insert, a transaction per batch.
    const rawWs = workspace("ingest-raw");
    const rawDb = openDb(join(rawWs, "lathe.db"));
    const rawRun = createRun(rawDb, {
      experimentId: ensureExperiment(rawDb, "bench").id,
      name: "raw",
    });
    const insert = rawDb.prepare(
      "INSERT INTO metrics (run_id, key, value, text, step, timestamp) VALUES (?, ?, ?, NULL, ?, ?)",
    );
    const writeBatch = rawDb.transaction((points: ReturnType<typeof batchPoints>) => {
      for (const p of points) {
        insert.run(rawRun, p.key, p.value, p.step, p.timestamp);
      }
    });
    const batches = Array.from({ length: BATCHES }, (_, b) => batchPoints(b));
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    for (const points of batches) {
      writeBatch(points);
    }
    raw.push(performance.now() - t1);
    const c = process.cpuUsage(c1);
    rawCpu.push((c.user + c.system) / 1000);
    rawDb.close();
    rmSync(rawWs, { recursive: true, force: true });
  }
  const total = BATCH * BATCHES;
  const rate = (t: number) => Math.round(total / (t / 1000));
  const [l, r] = [median(lathe), median(raw)];
  console.log(`ingest: ${total} points in batches of ${BATCH}, median of ${rounds} rounds`);
  console.log(`  lathe HTTP batch API  ${ms(l).padStart(10)}  ${rate(l)} points/s`);
  console.log(`  raw better-sqlite3    ${ms(r).padStart(10)}  ${rate(r)} points/s`);
  console.log(`  ratio lathe/raw (throughput) ${(r / l).toFixed(2)} (goal ≥ 0.5)`);
  const [lc, rc] = [median(latheCpu), median(rawCpu)];
  console.log(`  CPU: daemon ${ms(lc)}, raw ${ms(rc)}; ratio raw/daemon ${(rc / lc).toFixed(2)}`);
  const fc = median(foldCpu);
  console.log(
    `  CPU with the rollups folded after the requests: daemon ${ms(fc)}; ratio raw/daemon ${(rc / fc).toFixed(2)}`,
  );
  console.log(`  rounds (lathe ms): ${lathe.map((t) => t.toFixed(0)).join(", ")}`);
}

// ---- 2. list ----------------------------------------------------------------------------------

const RUNS = 10_000;

function seedRuns(db: Db): void {
  const experimentId = ensureExperiment(db, "bench").id;
  db.transaction(() => {
    for (let i = 0; i < RUNS; i++) {
      const id = createRun(db, {
        experimentId,
        name: `run-${i}`,
        startTime: 1_700_000_000_000 + i,
      });
      logParams(db, id, {
        lr: String(0.001 * (i % 10)),
        batch: String(32 << (i % 3)),
        seed: String(i),
        layers: String(i % 5),
        opt: i % 2 ? "adam" : "sgd",
      });
      logMetrics(db, id, [
        { key: "accuracy", value: (i % 1000) / 1000, step: 10 },
        { key: "loss", value: 1 - (i % 1000) / 1000, step: 10 },
        { key: "f1", value: (i % 777) / 777, step: 10 },
      ]);
      setRunTags(db, id, { team: i % 2 ? "a" : "b", note: `n${i % 7}` });
      finishRun(db, id, { status: "FINISHED", exitCode: 0 });
    }
  })();
}

async function benchList(): Promise<void> {
  const ws = workspace("list");
  const db = openDb(join(ws, ".lathe", "lathe.db"));
  seedRuns(db);
  const d = await startDaemon(ws);
  const search = JSON.stringify({
    filter: "metrics.accuracy > 0.5 and params.opt = 'adam'",
    orderBy: ["metrics.f1 DESC"],
    maxResults: 1000,
  });
  const n = 15;
  // The first list makes every run's summary (seeded runs have none yet): timed on its own, as
  // the cold figure. It is also the count; the timed calls read the text without parsing it.
  const coldStart = performance.now();
  const first = await call(d, "GET", `/api/v1/runs?limit=${RUNS}`);
  const cold = performance.now() - coldStart;
  const count = (JSON.parse(first) as unknown[]).length;
  const list = await timeRuns(n, () => call(d, "GET", `/api/v1/runs?limit=${RUNS}`));
  const found = await timeRuns(n, () => call(d, "POST", "/api/v1/runs/search", search));
  const rawQuery = () => {
    const runs = db.prepare("SELECT * FROM runs ORDER BY start_time DESC").all();
    const params = db.prepare("SELECT run_id, key, value FROM params").all();
    const metrics = db.prepare("SELECT * FROM latest_metrics").all();
    const tags = db.prepare("SELECT run_id, key, value FROM tags").all();
    return JSON.stringify({ runs, params, metrics, tags }).length;
  };
  rawQuery();
  const raw = await timeRuns(n, rawQuery);
  const cpuJson = cpuRuns(n, () => listRunsJson(db, { limit: RUNS }));
  const cpuObjects = cpuRuns(n, () => JSON.stringify(listRuns(db, { limit: RUNS })));
  await stopDaemon(d);
  db.close();
  rmSync(ws, { recursive: true, force: true });
  console.log(`list: ${count} runs (5 params, 3 metrics, 2 tags each), median of ${n}`);
  console.log(
    `  GET /api/v1/runs?limit=${RUNS}      ${ms(median(list)).padStart(10)} (goal < 200 ms)`,
  );
  console.log(`  first GET after creating them (makes every summary) ${ms(cold)}`);
  console.log(`  POST /api/v1/runs/search (filter, order by metric, 1000) ${ms(median(found))}`);
  console.log(`  raw SQL of the same rows + JSON    ${ms(median(raw)).padStart(10)}`);
  console.log(`  ratio lathe list / raw ${(median(list) / median(raw)).toFixed(2)}×`);
  console.log(
    `  in process, CPU: listRunsJson ${ms(median(cpuJson))}, listRuns + JSON.stringify ${ms(median(cpuObjects))}`,
  );
}

// ---- 3. history -------------------------------------------------------------------------------

const POINTS = 1_000_000;
const START = 1_700_000_000_000;

async function benchHistory(): Promise<void> {
  const ws = workspace("history");
  const db = openDb(join(ws, ".lathe", "lathe.db"));
  const runId = createRun(db, { experimentId: ensureExperiment(db, "bench").id, name: "long" });
  for (let start = 0; start < POINTS; start += 10_000) {
    const points = Array.from({ length: 10_000 }, (_, i) => ({
      key: "loss",
      value: Math.exp(-(start + i) / 200_000) + 0.01 * Math.sin(start + i),
      step: start + i,
      timestamp: START + start + i,
    }));
    logMetrics(db, runId, points);
  }
  const d = await startDaemon(ws);
  const path = `/api/v1/runs/${runId}/metrics/history?key=loss&points=2000`;
  const zoom = `${path}&minStep=250000&maxStep=750000`;
  const byTime = `${path}&x=time`;
  const byTimeZoom = `${byTime}&minTime=${START + 250_000}&maxTime=${START + 750_000}`;
  await call(d, "GET", path); // warm-up
  const n = 15;
  let kept = 0;
  let keptByTime = 0;
  const full = await timeRuns(n, async () => {
    kept = (JSON.parse(await call(d, "GET", path)) as { points: unknown[] }).points.length;
  });
  const zoomed = await timeRuns(n, () => call(d, "GET", zoom));
  const timed = await timeRuns(n, async () => {
    keptByTime = (JSON.parse(await call(d, "GET", byTime)) as { points: unknown[] }).points.length;
  });
  const timeZoomed = await timeRuns(n, () => call(d, "GET", byTimeZoom));
  const scan = db.prepare(
    "SELECT step, timestamp, value, text FROM metrics WHERE run_id = ? AND key = ? ORDER BY step",
  );
  const rawScan = () => {
    let sum = 0;
    for (const row of scan.raw().iterate(runId, "loss") as IterableIterator<
      [number, number, number]
    >) {
      sum += row[2];
    }
    return sum;
  };
  rawScan();
  const raw = await timeRuns(n, rawScan);
  const query = { key: "loss", points: 2000, x: "step" as const };
  const cpuHistory = cpuRuns(n, () => metricHistoryFor(db, runId, query));
  const cpuByTime = cpuRuns(n, () => metricHistoryFor(db, runId, { ...query, x: "time" }));
  const cpuScan = cpuRuns(n, rawScan);
  await stopDaemon(d);
  db.close();
  rmSync(ws, { recursive: true, force: true });
  console.log(`history: ${POINTS} points of one metric → ${kept} points, median of ${n}`);
  console.log(
    `  GET metrics/history points=2000     ${ms(median(full)).padStart(10)} (goal < 50 ms)`,
  );
  console.log(`  same, steps 250k–750k               ${ms(median(zoomed)).padStart(10)}`);
  console.log(
    `  same, x=time (→ ${keptByTime} points)       ${ms(median(timed)).padStart(10)} (goal < 50 ms)`,
  );
  console.log(`  x=time, 250–750 s into the run      ${ms(median(timeZoomed)).padStart(10)}`);
  console.log(`  raw SQL scan of the 1M rows         ${ms(median(raw)).padStart(10)}`);
  console.log(`  ratio lathe / raw scan ${(median(full) / median(raw)).toFixed(2)}×`);
  console.log(
    `  in process, CPU: history ${ms(median(cpuHistory))}, by time ${ms(median(cpuByTime))}, raw scan ${ms(median(cpuScan))}`,
  );
}

async function main(): Promise<void> {
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
  console.log(
    `bench/tracking.ts on ${new Date().toISOString()}, node ${process.version}, load ${load}`,
  );
  if (wants("ingest")) {
    await benchIngest();
  }
  if (wants("list")) {
    await benchList();
  }
  if (wants("history")) {
    await benchHistory();
  }
}

void main();
