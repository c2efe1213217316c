/**
 * Evaluating a gate on a candidate version, and what `lathe repro` does with the `models:`
 * section once its stages ran: register each entry's output (or find the version that already
 * holds those bytes), evaluate the gate, store the result on the version, move the alias if it
 * passed. A failed gate makes the repro fail (exit 1), with each condition and both values.
 */
import type { ModelVersion, StageResult } from "../../../schemas/api";
import type { GateConditionResult, GateResult, ModelGateOutcome } from "../../../schemas/registry";
import { findDaemon } from "../client";
import type { Context } from "../context";
import { LatheError } from "../errors";
import { aliasVersion, setAlias } from "./aliases";
import type { GateCondition, ModelEntry } from "./gates-parse";
import { getVersion } from "./models";
import { register, runOutput, versionMetrics, versionWithOid } from "./register";

const compare: Record<GateCondition["op"], (a: number, b: number) => boolean> = {
  ">=": (a, b) => a >= b,
  ">": (a, b) => a > b,
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};
const negate: Record<GateCondition["op"], string> = {
  ">=": "<",
  ">": "<=",
  "<=": ">",
  "<": ">=",
  "==": "!=",
  "!=": "==",
};

/** Evaluates an entry's conditions on `candidate`; `@alias` reads the alias's version now. */
export function evaluateGate(ctx: Context, entry: ModelEntry, candidate: ModelVersion): GateResult {
  const conditions = entry.gate.map((c) => evaluateCondition(ctx, entry.model, c, candidate));
  return {
    passed: conditions.every((c) => c.status !== "failed"),
    alias: entry.alias ?? null,
    moved: false,
    conditions,
    source: entry.where,
    at: Date.now(),
  };
}

function evaluateCondition(
  ctx: Context,
  model: string,
  c: GateCondition,
  candidate: ModelVersion,
): GateConditionResult {
  const actual = candidate.metrics[c.metric];
  const base = { text: c.text, metric: c.metric, op: c.op, actual: actual ?? null };
  const result = (
    status: GateConditionResult["status"],
    expected: number | null,
    detail: string,
    against: GateConditionResult["against"] = null,
  ): GateConditionResult => ({ ...base, expected, against, status, detail });

  let expected: number;
  let against: GateConditionResult["against"] = null;
  let what: string;
  if (c.rhs.kind === "number") {
    expected = c.rhs.value;
    what = String(expected);
  } else {
    const version = aliasVersion(ctx, model, c.rhs.alias) ?? null;
    against = { alias: c.rhs.alias, version };
    if (version === null) {
      return result("skipped", null, `no @${c.rhs.alias} yet: nothing to compare with`, against);
    }
    if (version === candidate.version) {
      return result("skipped", null, `@${c.rhs.alias} is this version already`, against);
    }
    const their = getVersion(ctx, model, version);
    const theirs = their.metrics[c.rhs.metric];
    // The same name from two stages is two measures (a version registered by hand from its
    // train run carries training accuracy; a gated one, its evaluate stage's test accuracy).
    const ours = candidate.metricStages[c.metric];
    const theirStage = their.metricStages[c.rhs.metric];
    if (ours && theirStage && ours !== theirStage && theirs !== undefined) {
      return result(
        "failed",
        null,
        `${c.metric} of v${candidate.version} comes from stage '${ours}' but ${c.rhs.metric} of @${c.rhs.alias} (v${version}) from stage '${theirStage}', so they are not compared; promote by hand (lathe models promote ${model}@${candidate.version} ${c.rhs.alias}) if this version should be ${c.rhs.alias}`,
        against,
      );
    }
    if (theirs === undefined || theirs === null) {
      const why = theirs === null ? "is NaN" : "is missing";
      return result(
        "failed",
        null,
        `${c.rhs.metric} of @${c.rhs.alias} (v${version}) ${why}`,
        against,
      );
    }
    expected = theirs + c.rhs.offset;
    const offset = c.rhs.offset ? ` ${c.rhs.offset < 0 ? "-" : "+"} ${Math.abs(c.rhs.offset)}` : "";
    what = `${round(expected)} (@${c.rhs.alias} v${version} ${c.rhs.metric} ${theirs}${offset})`;
  }
  if (actual === undefined || actual === null) {
    const known = Object.keys(candidate.metrics).join(", ") || "none";
    const why = actual === null ? "is NaN" : `is missing (its metrics: ${known})`;
    return result("failed", expected, `${c.metric} of v${candidate.version} ${why}`, against);
  }
  const holds = compare[c.op](actual, expected);
  const op = holds ? c.op : negate[c.op];
  return result(
    holds ? "passed" : "failed",
    expected,
    `${c.metric} ${actual} ${op} ${what}`,
    against,
  );
}

function round(n: number): number {
  return Number(n.toPrecision(12));
}

/** Runs the `models:` section after the stages of a repro; one outcome per entry. */
export async function applyModels(
  ctx: Context,
  entries: ModelEntry[],
  stages: StageResult[],
  daemon: { url: string; token: string } | undefined,
): Promise<ModelGateOutcome[]> {
  const outcomes: ModelGateOutcome[] = [];
  for (const entry of entries) {
    outcomes.push(await applyEntry(ctx, entry, stages, daemon));
  }
  return outcomes;
}

async function applyEntry(
  ctx: Context,
  entry: ModelEntry,
  stages: StageResult[],
  daemon: { url: string; token: string } | undefined,
): Promise<ModelGateOutcome> {
  const notRun = (reason: string): ModelGateOutcome => ({
    model: entry.model,
    status: "not-run",
    version: null,
    gate: null,
    reason,
  });
  const byName = new Map(stages.map((s) => [s.stage, s]));
  const needed = [entry.from, ...entry.metrics];
  if (!byName.has(entry.from)) {
    return notRun(`stage '${entry.from}' was not part of this repro`);
  }
  const runs: string[] = [];
  for (const name of needed) {
    const s = byName.get(name);
    if (!s || s.status === "failed" || s.status === "not-run" || !s.runId) {
      const why = !s ? "was not part of this repro" : s.runId ? s.status : "has no run";
      return notRun(`stage '${name}' ${why}`);
    }
    runs.push(s.runId);
  }
  const [sourceRun, ...metricRuns] = runs as [string, ...string[]];
  const output = runOutput(ctx, sourceRun, entry.path);
  const existing = versionWithOid(ctx, entry.model, output.oid);
  const candidate =
    existing !== undefined
      ? judgedOnRuns(ctx, getVersion(ctx, entry.model, existing), runs)
      : register(ctx, {
          model: entry.model,
          runId: sourceRun,
          path: output.path,
          description: entry.description,
          metricRuns,
        });
  const status = existing !== undefined ? "unchanged" : "registered";

  const gate =
    existing !== undefined && sameGate(candidate.gate, entry, candidate.metrics)
      ? { ...candidate.gate!, moved: false }
      : evaluateGate(ctx, entry, candidate);
  const target = entry.alias;
  if (gate.passed && target && aliasVersion(ctx, entry.model, target) !== candidate.version) {
    const reason = `gate passed (${entry.where})`;
    await moveAlias(ctx, entry.model, target, candidate.version, reason, daemon);
    gate.moved = true;
  }
  storeGate(ctx, entry.model, candidate.version, gate);
  const reason = gateSummary(entry.model, candidate.version, gate);
  return { model: entry.model, status, version: candidate.version, gate, reason };
}

/**
 * A version that already holds the candidate's bytes (registered by hand, or by an earlier repro
 * with other `metrics:` stages) is judged on this repro's runs, as registering them would record:
 * its stored metrics may be another stage's (training accuracy for test accuracy).
 */
function judgedOnRuns(ctx: Context, version: ModelVersion, runs: string[]): ModelVersion {
  return { ...version, ...versionMetrics(ctx, runs) };
}

/**
 * The stored result stands when the same bytes meet the same written gate again with the same
 * values, so an alias that moved since is not compared anew; other metrics are judged again.
 */
function sameGate(
  stored: GateResult | null,
  entry: ModelEntry,
  metrics: ModelVersion["metrics"],
): boolean {
  if (!stored || stored.alias !== (entry.alias ?? null)) {
    return false;
  }
  const texts = entry.gate.map((c) => c.text);
  const sameTexts = JSON.stringify(stored.conditions.map((c) => c.text)) === JSON.stringify(texts);
  return sameTexts && stored.conditions.every((c) => c.actual === (metrics[c.metric] ?? null));
}

function storeGate(ctx: Context, model: string, version: number, gate: GateResult): void {
  ctx.db
    .prepare("UPDATE model_versions SET gate = ?, updated_at = ? WHERE model = ? AND version = ?")
    .run(JSON.stringify(gate), Date.now(), model, version);
  ctx.events.emit({ type: "models/changed", model });
}

/**
 * In the daemon, or in the CLI with no daemon running, the alias moves here. When the CLI runs
 * beside a daemon, the daemon moves it, so that its deployments of `model@alias` hear of it.
 */
async function moveAlias(
  ctx: Context,
  model: string,
  alias: string,
  version: number,
  reason: string,
  daemon: { url: string; token: string } | undefined,
): Promise<void> {
  const note = { reason, actor: "lathe repro" };
  const handle = daemon && !ctx.daemon ? await findDaemon(ctx.ws.root) : undefined;
  if (!handle) {
    setAlias(ctx, model, alias, version, note);
    return;
  }
  const path = `/api/v1/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`;
  await handle.call("PUT", path, { version, ...note });
}

export function gateSummary(model: string, version: number, gate: GateResult): string {
  const failed = gate.conditions.filter((c) => c.status === "failed");
  if (gate.passed) {
    const moved = gate.alias
      ? gate.moved
        ? `; @${gate.alias} → v${version}`
        : `; @${gate.alias} already v${version}`
      : "";
    const n = gate.conditions.length;
    return `${model} v${version}: gate passed (${n} condition${n === 1 ? "" : "s"})${moved}`;
  }
  const alias = gate.alias ? `; @${gate.alias} not moved` : "";
  return `${model} v${version}: gate failed: ${failed.map((c) => `'${c.text}' (${c.detail})`).join("; ")}${alias}`;
}

/** LATHE_CHECK_FAILED (exit 1) naming every failed condition with both values. */
export function throwIfGateFailed(outcomes: ModelGateOutcome[] | undefined): void {
  const failed = (outcomes ?? []).filter((o) => o.gate && !o.gate.passed);
  if (failed.length === 0) {
    return;
  }
  throw new LatheError("LATHE_CHECK_FAILED", failed.map((o) => o.reason).join("\n"), {
    models: failed.map((o) => ({ model: o.model, version: o.version, gate: o.gate })),
  });
}
