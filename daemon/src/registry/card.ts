/**
 * The model card: one markdown page with everything Lathe knows about a version — where it came
 * from (run, git commit, data ids), what it was trained with and scored, its interface, its
 * aliases, stage, tags and gate, and the audit log of its model.
 */
import type { ModelVersion } from "../../../schemas/api";
import type { GateResult, RegistryAuditEntry } from "../../../schemas/registry";
import type { Context } from "../context";
import { auditLog } from "./aliases";
import { getModel, getVersion } from "./models";
import { resolveTarget } from "./target";

export interface ModelCard {
  model: string;
  version: number;
  markdown: string;
}

/** The card of the version a target (`name`, `name@3`, `name@champion`) names. */
export function modelCard(ctx: Context, target: string): ModelCard {
  const resolved = resolveTarget(ctx, target);
  const v = getVersion(ctx, resolved.model, resolved.version);
  const model = getModel(ctx, resolved.model);
  const history = auditLog(ctx, resolved.model, 20);
  return {
    model: v.model,
    version: v.version,
    markdown: renderCard(v, model.description, history),
  };
}

export function renderCard(v: ModelVersion, modelDescription: string, log: RegistryAuditEntry[]) {
  const lines: string[] = [`# ${v.model} — version ${v.version}`, ""];
  const about = v.description || modelDescription;
  if (about) {
    lines.push(about, "");
  }
  lines.push(
    "| | |",
    "|---|---|",
    `| Aliases | ${v.aliases.length ? v.aliases.map((a) => `\`@${a}\``).join(", ") : "none"} |`,
    `| Stage | ${v.stage} |`,
    `| Registered | ${new Date(v.createdAt).toISOString()} |`,
    `| Source run | \`${v.runId}\` |`,
    `| Git commit | ${v.gitCommit ? `\`${v.gitCommit}\`` : "unknown (the run recorded none)"} |`,
    `| File | \`${v.path}\` (\`${v.oid}\`) |`,
    "",
  );
  lines.push("## Gate", "", ...gateLines(v.gate), "");
  lines.push("## Metrics", "", ...metricLines(v), "");
  lines.push("## Parameters", "", ...table(["Parameter", "Value"], Object.entries(v.params)), "");
  lines.push(
    "## Training data",
    "",
    ...table(
      ["Input", "Data id"],
      v.dataIds.map((d) => [d.path, `\`${d.oid}\``]),
    ),
    "",
  );
  lines.push("## Signature", "", ...signatureLines(v), "");
  lines.push("## Tags", "", ...table(["Tag", "Value"], Object.entries(v.tags)), "");
  lines.push("## History", "", ...historyLines(log), "");
  return lines.join("\n");
}

function gateLines(gate: GateResult | null): string[] {
  if (!gate) {
    return ["No gate: this version was registered by hand."];
  }
  const verdict = gate.passed ? "**passed**" : "**failed**";
  const alias = gate.alias
    ? gate.moved
      ? `; it moved \`@${gate.alias}\` here`
      : `; \`@${gate.alias}\` was not moved`
    : "";
  return [
    `${verdict} (${gate.source}, ${new Date(gate.at).toISOString()})${alias}.`,
    "",
    ...table(
      ["Condition", "Result", "Detail"],
      gate.conditions.map((c) => [`\`${c.text}\``, c.status, c.detail]),
    ),
  ];
}

function signatureLines(v: ModelVersion): string[] {
  const rows = [
    ...v.signature.inputs.map((t) => ["input", t.name, t.datatype, `[${t.shape.join(", ")}]`]),
    ...v.signature.outputs.map((t) => ["output", t.name, t.datatype, `[${t.shape.join(", ")}]`]),
  ];
  const extra: string[] = [];
  if (v.signature.features) {
    extra.push("", `Features: ${v.signature.features.join(", ")}`);
  }
  if (v.signature.labels) {
    extra.push("", `Labels: ${v.signature.labels.join(", ")}`);
  }
  return [...table(["", "Name", "Type", "Shape"], rows), ...extra];
}

function historyLines(log: RegistryAuditEntry[]): string[] {
  const rows = log.map((e) => {
    const what = {
      alias: `@${e.name}`,
      stage: `stage of v${e.name}`,
      version: `v${e.name} deleted`,
      rename: "model renamed",
    }[e.kind];
    const move = `${e.from ?? "—"} → ${e.to ?? "—"}`;
    return [
      new Date(e.at).toISOString(),
      what,
      move,
      [e.reason, e.actor].filter(Boolean).join(" · "),
    ];
  });
  return table(["When", "What", "Move", "Why"], rows);
}

/** The metrics table, with the stage each came from when the version recorded it. */
function metricLines(v: ModelVersion): string[] {
  const rows = Object.entries(v.metrics).map(([k, x]) => [k, x === null ? "NaN" : String(x)]);
  if (Object.keys(v.metricStages).length === 0) {
    return table(["Metric", "Value"], rows);
  }
  return table(
    ["Metric", "Value", "Stage"],
    rows.map(([k, x]) => [k!, x!, v.metricStages[k!] ?? "outside a pipeline"]),
  );
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) {
    return ["None."];
  }
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}
