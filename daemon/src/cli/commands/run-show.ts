/**
 * `lathe runs show <id>`: one run's params, tags (not `mlflow.*`), metrics (each with its curve,
 * drawn from the downsampled history), files, error and log. `--json` gives the RunDetail with
 * `histories`.
 */
import type { Command } from "commander";
import { closeContext, openContext } from "../../context";
import type { MetricHistory, RunDetail } from "../../../../schemas/api";
import { getRun, resolveRunId } from "../../store/runs";
import { KEPT_PER_BUCKET } from "../../tracking/history-rollups";
import { metricHistoryFor } from "../../tracking/history";
import { print, workspaceFor } from "../output";
import { curveLine, SPARK_WIDTH } from "../sparkline";

/** The JSON of `lathe runs show`: the run, and each metric's history downsampled to a curve. */
export interface RunShown extends RunDetail {
  histories: Record<string, MetricHistory>;
}

export function runsShowCommand(id: string, _opts: unknown, cmd: Command) {
  const ctx = openContext(workspaceFor(cmd).root, { quiet: true });
  try {
    const run = getRun(ctx.db, resolveRunId(ctx.db, id));
    const histories = Object.fromEntries(
      Object.keys(run.metrics).map((key) => [
        key,
        metricHistoryFor(ctx.db, run.id, { key, points: SPARK_WIDTH * KEPT_PER_BUCKET, x: "step" }),
      ]),
    );
    const shown: RunShown = { ...run, histories };
    print(cmd, shown, () => runText(shown));
  } finally {
    closeContext(ctx);
  }
}

function runText(run: RunShown): string {
  const lines = [
    `run ${run.id} (${run.name}) ${run.status}`,
    `experiment: ${run.experimentName}`,
    `command: ${run.command ?? "-"}`,
    `git: ${run.gitCommit ?? "-"}${run.gitDirty ? " (dirty)" : ""}`,
    `exit code: ${run.exitCode ?? "-"}`,
  ];
  const section = (title: string, items: string[]) => {
    if (items.length) {
      lines.push(`${title}:`, ...items.map((i) => `  ${i}`));
    }
  };
  section(
    "params",
    Object.entries(run.params).map(([k, v]) => `${k} = ${v}`),
  );
  // mlflow.* tags are the client's bookkeeping (source, user, note); --json has them all.
  section(
    "tags",
    Object.entries(run.tags)
      .filter(([k]) => !k.startsWith("mlflow."))
      .map(([k, v]) => `${k} = ${v.replace(/\n/g, "\n    ")}`),
  );
  section(
    "metrics",
    Object.values(run.metrics).flatMap((m) => {
      const latest = `${m.key} = ${m.text ?? m.value}`;
      const history = run.histories[m.key];
      // One point has no curve: its value says it all.
      return history && history.total > 1 ? [latest, `  ${curveLine(history)}`] : [latest];
    }),
  );
  section(
    "inputs",
    run.inputs.map((f) => `${f.path} ${f.oid.slice(0, 12)}`),
  );
  section(
    "outputs",
    run.outputs.map((f) => `${f.path} ${f.oid.slice(0, 12)}`),
  );
  if (run.error) {
    section("error", run.error.split("\n"));
  }
  if (run.log) {
    lines.push("log:", run.log.trimEnd());
  }
  return lines.join("\n");
}
