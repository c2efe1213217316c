/** `lathe repro`, `lathe dag` and `lathe runs list|show`: the pipeline and its tracked runs. */
import type { Command } from "commander";
import type {
  DataStatus,
  PipelineStatus,
  ReproResult,
  RunSummary,
  StageResult,
} from "../../../../schemas/api";
import { findDaemon } from "../../client";
import { forwardEvents } from "../forward-events";
import { onInterrupt } from "../interrupt";
import { serveStageApi } from "../stage-api";
import { closeContext, openContext, type Context } from "../../context";
import { dataStatus } from "../../data/status";
import { LatheError } from "../../errors";
import { KILL_GRACE_MS } from "../../pipeline/exec";
import { HashCache } from "../../pipeline/hashcache";
import { pipelineFile } from "../../pipeline/parse";
import { repro } from "../../services/repro";
import { pipelineDag, pipelineStatus } from "../../services/repro-status";
import { experimentByName } from "../../store/experiments";
import { getRun, listRuns } from "../../store/runs";
import { action, globals, print, workspaceFor } from "../output";
import { integerIn } from "../parse";
import { modelLines, throwIfGateFailed } from "./registry";
import { runsShowCommand } from "./run-show";

export function registerPipelineCommands(program: Command): void {
  program
    .command("repro")
    .description("run the stages of lathe.yaml whose inputs changed, each as a tracked run")
    .argument("[stages...]", "stages to bring up to date (with their upstream); default all")
    .option("-f, --force", "run the stages even when they are up to date")
    .option("-d, --downstream", "run the named stages and every stage depending on them")
    .option(
      "-j, --jobs <n>",
      "run up to n independent stages at once (1 to 64)",
      integerIn(1, 64),
      1,
    )
    .option("-v, --verbose", "echo each stage's output to stderr")
    .action(action(reproCommand));

  program
    .command("dag")
    .description("print the stages in run order with what each depends on")
    .action(action(dagCommand));

  program
    .command("status")
    .description("say which pipeline stages are stale and which versioned data changed, and why")
    .option("--pipeline", "only the pipeline's stages")
    .option("--data", "only versioned data (pointer files)")
    .option("--check", "exit 1 when any stage is stale or any data is not up to date")
    .action(action(statusCommand));

  const runs = program.command("runs").description("tracked runs");
  runs
    .command("list")
    .description("list runs, newest first")
    .option("--experiment <name>", "only runs of this experiment")
    .option("--limit <n>", "at most this many runs (1 to 100000)", integerIn(1, 100_000), 50)
    .action(action(runsListCommand));
  runs
    .command("show")
    .description("show one run: params, metrics, files, log")
    .argument("<id>", "run id or a unique prefix of it (4+ characters)")
    .action(action(runsShowCommand));
}

async function withContext<T>(cmd: Command, fn: (ctx: Context) => Promise<T> | T): Promise<T> {
  const ws = workspaceFor(cmd);
  const ctx = openContext(ws.root, { quiet: true });
  try {
    return await fn(ctx);
  } finally {
    closeContext(ctx);
  }
}

async function reproCommand(
  stages: string[],
  opts: { force?: boolean; downstream?: boolean; verbose?: boolean; jobs: number },
  cmd: Command,
): Promise<void> {
  const json = globals(cmd).json;
  // Installed before anything runs, so that no signal takes Node's default (exit, leaving the
  // stages' process groups running) while the repro owns them.
  const interrupt = onInterrupt((signal, forced) =>
    process.stderr.write(
      forced
        ? "lathe: killing the running stages now\n"
        : `lathe: ${signal}: stopping the running stages (SIGTERM, then SIGKILL after ${KILL_GRACE_MS / 1000} s); interrupt again to kill them now\n`,
    ),
  );
  try {
    await withContext(cmd, async (ctx) => {
      // A running daemon receives the stages' MLflow/Lathe logging calls, and hears of this
      // process's runs and progress, so the editor follows a terminal's repro live. Without
      // one, this process serves the API its stages log to until the repro ends.
      const daemon = await findDaemon(ctx.ws.root);
      const forwarder = daemon && forwardEvents(ctx, daemon);
      const own = daemon ? undefined : await serveStageApi(ctx);
      const api = daemon
        ? { url: `http://127.0.0.1:${daemon.info.port}`, token: daemon.info.token }
        : own;
      let result: ReproResult;
      try {
        result = await repro(ctx, {
          stages,
          force: opts.force,
          downstream: opts.downstream,
          jobs: opts.jobs,
          api,
          signal: interrupt.signal,
          forceSignal: interrupt.force,
          onStage: json ? undefined : (s) => process.stdout.write(`${stageLine(s)}\n`),
          onOutput: opts.verbose ? (_stage, chunk) => process.stderr.write(chunk) : undefined,
        });
      } finally {
        // Sent before exiting, so that the editor learns of KILLED runs too.
        await forwarder?.close();
        await own?.close();
      }
      result.warnings.forEach((w) => process.stderr.write(`lathe: warning: ${w}\n`));
      print(cmd, result, () => modelLines(result.models));
      if (interrupt.received()) {
        reportInterrupted(result);
        return;
      }
      throwIfFailed(ctx, result);
      throwIfGateFailed(result.models);
    });
  } finally {
    interrupt.dispose();
  }
  process.exitCode = interrupt.exitCode() ?? process.exitCode;
}

/** One line per stage whose process group was stopped (its run is KILLED). */
function reportInterrupted(result: ReproResult): void {
  const stopped = result.stages.filter((s) => s.status === "failed" && s.reason === "cancelled");
  const lines = stopped.map((s) => `lathe: interrupted: stopped stage ${s.stage}\n`);
  process.stderr.write(lines.join("") || "lathe: interrupted\n");
}

function stageLine(s: StageResult): string {
  const id = s.runId ? ` run ${s.runId.slice(0, 8)}` : "";
  const verb = {
    ran: "ran",
    killed: "KILLED",
    restored: "restored",
    skipped: "skipped",
    failed: "FAILED",
    "not-run": "not run",
  }[s.status === "failed" && s.reason === "cancelled" ? "killed" : s.status];
  return `${verb.padEnd(8)} ${s.stage}${id}: ${s.reason}`;
}

/** Exit 2 with the failing stage's stderr tail, the first thing a user needs to see. */
function throwIfFailed(ctx: Context, result: ReproResult): void {
  const failed = result.stages.find((s) => s.status === "failed");
  if (!failed) {
    return;
  }
  const error = failed.runId ? getRun(ctx.db, failed.runId).error : null;
  const log = error ? `; the end of its log:\n${error.replace(/^/gm, "  ")}` : "";
  const more = failed.runId ? `\nThe whole log: lathe runs show ${failed.runId}` : "";
  throw new LatheError(
    "LATHE_STAGE_FAILED",
    `stage '${failed.stage}' failed (${failed.reason})${log}${more}`,
    {
      stage: failed.stage,
      runId: failed.runId,
      parentRunId: result.parentRunId,
    },
  );
}

function dagCommand(_opts: unknown, cmd: Command): void {
  const dag = pipelineDag(workspaceFor(cmd).root);
  print(cmd, dag, () =>
    dag.stages
      .map((s) => `${s.name}${s.upstream.length ? ` <- ${s.upstream.join(", ")}` : ""}`)
      .join("\n"),
  );
}

/**
 * `lathe status`: the pipeline's stages and the versioned data; `--pipeline` or `--data` for one.
 * JSON: the PipelineStatus, with `data` (DataStatus) added when data is reported.
 */
async function statusCommand(
  opts: { pipeline?: boolean; data?: boolean; check?: boolean },
  cmd: Command,
) {
  const both = !opts.pipeline && !opts.data;
  await withContext(cmd, async (ctx) => {
    const wantPipeline = opts.pipeline || (both && pipelineFile(ctx.ws.root) !== undefined);
    const status = wantPipeline ? await pipelineStatus(ctx) : undefined;
    const hashes = new HashCache(ctx.db);
    const data =
      opts.data || both ? await dataStatus(ctx.ws, (p) => hashes.hashPath(p)) : undefined;
    status?.warnings.forEach((w) => process.stderr.write(`lathe: warning: ${w}\n`));
    const value = { ...(status ?? {}), ...(data ? { data } : {}) };
    print(cmd, value, () =>
      [status && statusText(status), data && dataText(data)].filter(Boolean).join("\n"),
    );
    if (opts.check && (status?.stale || data?.changed)) {
      throw new LatheError("LATHE_CHECK_FAILED", checkMessage(status, data), {
        stages: status?.stages.filter((s) => s.state === "stale").map((s) => s.stage) ?? [],
        data: data?.entries.filter((e) => e.state !== "up-to-date").map((e) => e.path) ?? [],
      });
    }
  });
}

function checkMessage(status?: PipelineStatus, data?: DataStatus): string {
  const parts = [
    status?.stale ? "some stages are stale" : "",
    data?.changed ? "some versioned data is not up to date" : "",
  ];
  return parts.filter(Boolean).join("; ");
}

function statusText(status: PipelineStatus): string {
  const width = Math.max(0, ...status.stages.map((s) => s.stage.length));
  const lines = status.stages.map((s) => {
    const label = s.state === "up-to-date" ? "up to date" : s.state;
    const why = s.reasons.map((r) => r.message).join("; ");
    return `${s.stage.padEnd(width)}  ${label}${why ? `: ${why}` : ""}`;
  });
  return lines.join("\n") || `no stages in ${status.file}`;
}

function dataText(data: DataStatus): string {
  if (data.entries.length === 0) {
    return "data: nothing versioned yet (lathe add <path>)";
  }
  const width = Math.max(...data.entries.map((e) => e.path.length));
  const lines = data.entries.map((e) =>
    e.state === "up-to-date"
      ? `  ${e.path.padEnd(width)}  up to date`
      : `  ${e.path.padEnd(width)}  ${e.message}`,
  );
  return ["data:", ...lines].join("\n");
}

async function runsListCommand(opts: { experiment?: string; limit: number }, cmd: Command) {
  await withContext(cmd, (ctx) => {
    let experimentId: string | undefined;
    if (opts.experiment !== undefined) {
      const found = experimentByName(ctx.db, opts.experiment);
      if (!found) {
        throw new LatheError("LATHE_NOT_FOUND", `No experiment '${opts.experiment}'.`, {
          experiment: opts.experiment,
        });
      }
      experimentId = found.id;
    }
    const runs = listRuns(ctx.db, { experimentId, limit: opts.limit });
    print(cmd, runs, () => runsTable(runs));
  });
}

function runsTable(runs: RunSummary[]): string {
  if (runs.length === 0) {
    return "no runs yet: run 'lathe repro'";
  }
  const rows = runs.map((r) => [
    r.id.slice(0, 8),
    r.stage ?? `(${r.name})`,
    r.status,
    new Date(r.startTime).toISOString().replace("T", " ").slice(0, 19),
    r.endTime === null ? "-" : `${((r.endTime - r.startTime) / 1000).toFixed(1)}s`,
    headline(r),
  ]);
  const header = ["ID", "STAGE", "STATUS", "START (UTC)", "TIME", "METRICS"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The first few metrics, for a one-line overview. */
function headline(run: RunSummary): string {
  return Object.values(run.metrics)
    .slice(0, 3)
    .map((m) => `${m.key}=${m.text ?? formatNumber(m.value)}`)
    .join(" ");
}

function formatNumber(v: number | null): string {
  return v === null ? "null" : String(Number(v.toPrecision(4)));
}
