/**
 * The demo drives the real CLI as child processes, step by step, exactly as a user would type
 * it, so it exercises the same paths as CI and prints what each step produced.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type {
  DaemonInfo,
  Deployment,
  ModelVersion,
  ReproResult,
  RunDetail,
} from "../../../schemas/api";
import { LatheError } from "../errors";
import { cliScript } from "../cli/output";

export interface DemoOptions {
  keep: boolean;
  dir?: string;
  json: boolean;
}

const MODEL = "weather-model";
const FEATURES = ["precipitation", "temp_max", "temp_min", "wind"] as const;

/** The package root: dist/lathe.js lives in <root>/dist. */
function packageRoot(): string {
  return resolve(cliScript(), "..", "..");
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const started = Date.now();
  const say = (line: string) => {
    if (!options.json) {
      process.stdout.write(`${line}\n`);
    }
  };
  const ws = prepareWorkspace(options.dir);
  say(`Lathe demo in ${ws}`);
  let keepRunning = options.keep;
  try {
    say("\n$ lathe add data/weather.csv");
    const added = await lathe<{ added: { oid: string; size: number }[] }>(ws, [
      "add",
      "data/weather.csv",
    ]);
    const first = added.added[0];
    say(`  tracked data/weather.csv (${first?.size ?? 0} bytes) as ${first?.oid ?? "?"}`);

    say("\n$ lathe repro");
    const repro = await lathe<ReproResult>(ws, ["repro"]);
    for (const s of repro.stages) {
      say(`  ${s.stage.padEnd(9)} ${s.status.padEnd(8)} run ${s.runId ?? "-"}  ${s.reason}`);
    }
    const evalRun = runOf(repro, "evaluate");
    const trainRun = runOf(repro, "train");
    const evaluation = await lathe<RunDetail>(ws, ["runs", "show", evalRun]);
    const metrics = Object.values(evaluation.metrics)
      .map((m) => `${m.key}=${formatMetric(m.value, m.text)}`)
      .join("  ");
    say(`  metrics of run ${evalRun}: ${metrics}`);

    say(`\n$ lathe models register ${MODEL} --from ${trainRun}`);
    const version = await lathe<ModelVersion>(ws, [
      "models",
      "register",
      MODEL,
      "--from",
      trainRun,
    ]);
    say(
      `  ${MODEL} version ${version.version} (object ${version.oid.slice(0, 12)}…), inputs: ${version.signature.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(",")}]`).join("; ")}`,
    );

    say(`\n$ lathe deploy ${MODEL}`);
    const deployment = await lathe<Deployment>(ws, ["deploy", MODEL]);
    say(`  serving ${MODEL} v${deployment.version} at ${deployment.url}`);

    say("\nPredicting five held-out rows (Seattle 2015) through POST /predict:");
    const rows = heldOutRows(ws, 5);
    const info = JSON.parse(readFileSync(join(ws, ".lathe", "daemon.json"), "utf8")) as DaemonInfo;
    const answer = await predict(
      deployment.url ?? "",
      info.token,
      rows.map((r) => r.record),
    );
    const lines = rows.map((row, i) => {
      const predicted = answer.predictions[i]?.label ?? "?";
      const mark = predicted === row.truth ? "✓" : "✗";
      return `  ${row.date}  ${FEATURES.map((f) => `${f}=${row.record[f]}`).join(" ")}  → ${predicted.padEnd(7)} (true: ${row.truth}) ${mark}`;
    });
    lines.forEach(say);

    const summary = {
      workspace: ws,
      runId: evalRun,
      trainRunId: trainRun,
      metrics: Object.fromEntries(Object.values(evaluation.metrics).map((m) => [m.key, m.value])),
      model: MODEL,
      version: version.version,
      url: deployment.url,
      predictions: rows.map((row, i) => ({
        date: row.date,
        ...row.record,
        truth: row.truth,
        predicted: answer.predictions[i]?.label,
      })),
      seconds: (Date.now() - started) / 1000,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    }
    say(`\nRun ${evalRun} · ${metrics} · ${MODEL} v${version.version} · ${deployment.url}`);
    say(`Done in ${summary.seconds.toFixed(1)} s.`);
    if (options.keep) {
      say(`\nStill running (--keep). Stop with: node ${cliScript()} daemon stop --root ${ws}`);
    }
  } catch (err) {
    keepRunning = false;
    throw err;
  } finally {
    if (!keepRunning) {
      await lathe(ws, ["daemon", "stop"]).catch(() => undefined);
      if (!options.dir) {
        // The temporary folder made for the demo, not only the copy inside it.
        rmSync(dirname(ws), { recursive: true, force: true });
      }
    }
  }
}

function formatMetric(value: number | null, text: string | undefined): string {
  if (text !== undefined || value === null) {
    return text ?? "NaN";
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function runOf(repro: ReproResult, stage: string): string {
  const id = repro.stages.find((s) => s.stage === stage)?.runId;
  if (!id) {
    throw new LatheError("LATHE_INTERNAL", `The demo pipeline has no run for stage '${stage}'.`);
  }
  return id;
}

/** Copies examples/weather without generated outputs and links the package's node_modules. */
function prepareWorkspace(dir: string | undefined): string {
  const root = packageRoot();
  const example = join(root, "examples", "weather");
  if (!existsSync(example)) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `The demo needs ${example}; run it from a Lathe checkout.`,
    );
  }
  const ws = dir
    ? resolve(dir, "weather")
    : join(mkdtempSync(join(tmpdir(), "lathe-demo-")), "weather");
  if (existsSync(ws)) {
    throw new LatheError("LATHE_CONFLICT", `${ws} exists already; pass an empty --dir.`, {
      path: ws,
    });
  }
  mkdirSync(ws, { recursive: true });
  const generated =
    /[\\/](\.lathe|node_modules|models|metrics|data[\\/]prepared)([\\/]|$)|\.lathe$|lathe\.lock$/;
  cpSync(example, ws, {
    recursive: true,
    filter: (src) => !generated.test(src.slice(example.length)),
  });
  // The example's scripts require yaml, onnx-proto and onnxruntime-node: let them resolve here.
  symlinkSync(join(root, "node_modules"), join(ws, "node_modules"), "dir");
  gitInit(ws);
  return ws;
}

/** A git repository makes runs carry a commit; without git the demo still runs. */
function gitInit(ws: string): void {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ws, stdio: "ignore" });
    git("init", "-q");
    git("add", "-A");
    git(
      "-c",
      "user.name=Lathe demo",
      "-c",
      "user.email=demo@lathe.invalid",
      "commit",
      "-qm",
      "weather example",
    );
  } catch {
    // git is optional for the demo: runs then record no commit.
  }
}

interface HeldOut {
  date: string;
  record: Record<(typeof FEATURES)[number], number>;
  truth: string;
}

/** Five rows of the prepared test split (Seattle 2015), spread over the year. */
function heldOutRows(ws: string, count: number): HeldOut[] {
  const text = readFileSync(join(ws, "data", "prepared", "test.csv"), "utf8").trim();
  const [header, ...lines] = text.split(/\r?\n/);
  const cols = (header ?? "").split(",");
  const at = (name: string) => cols.indexOf(name);
  const step = Math.max(1, Math.floor(lines.length / count));
  return Array.from({ length: count }, (_, i) => (lines[i * step] ?? "").split(",")).map((f) => ({
    date: f[at("date")] ?? "",
    record: Object.fromEntries(FEATURES.map((k) => [k, Number(f[at(k)])])) as HeldOut["record"],
    truth: f[at("weather")] ?? "",
  }));
}

/** Runs one CLI verb with --json against the workspace and parses its output. */
function lathe<T>(ws: string, args: string[]): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliScript(), "--json", "--root", ws, ...args], {
      cwd: ws,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(
          new LatheError(
            "LATHE_INTERNAL",
            `demo step 'lathe ${args.join(" ")}' failed (exit ${code}): ${err.trim() || out.trim()}`,
          ),
        );
        return;
      }
      try {
        resolvePromise(JSON.parse(out) as T);
      } catch {
        reject(
          new LatheError(
            "LATHE_INTERNAL",
            `demo step 'lathe ${args.join(" ")}' printed no JSON: ${out.slice(0, 300)}`,
          ),
        );
      }
    });
  });
}

function predict(
  url: string,
  token: string,
  records: Record<string, number>[],
): Promise<{ predictions: { label: string }[] }> {
  const body = Buffer.from(JSON.stringify({ records }));
  const target = new URL("/predict", url);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      target,
      {
        method: "POST",
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          "Content-Length": body.length,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 400) {
            reject(
              new LatheError(
                "LATHE_INTERNAL",
                `POST ${target.href} answered ${res.statusCode}: ${text}`,
              ),
            );
            return;
          }
          resolvePromise(JSON.parse(text) as { predictions: { label: string }[] });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
