/**
 * Read-only markdown documents for the Models view: a version's model card (from the daemon) and
 * a comparison of two versions' lineage, params and metrics. They open in the markdown preview.
 */
import * as vscode from "vscode";
import type { ModelVersion } from "../../../schemas/api";
import type { ModelCardResponse } from "../../../schemas/registry";
import type { DaemonConnection } from "../daemon/connection";

export const REGISTRY_DOC_SCHEME = "lathe-registry";

/** `lathe-registry:/card/<model>/<model>@v<n>.md` and `…/compare/<model>/<model> v<a> ↔ v<b>.md`. */
export class RegistryDocProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly daemon: DaemonConnection) {
    this.subscription = daemon.onEvent((event) => {
      if (event.type === "models/changed") {
        for (const uri of this.open) {
          this.changed.fire(vscode.Uri.parse(uri));
        }
      }
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    this.open.add(uri.toString());
    const [, kind, model, file] = uri.path.split("/");
    const name = decodeURIComponent(model ?? "");
    // `weather-model@v2.md`, `weather-model v1 ↔ v2.md`: the tab shows the file name.
    const name_ = decodeURIComponent(file ?? "");
    const m = /@v(\d+)\.md$/.exec(name_) ?? /v(\d+) ↔ v(\d+)\.md$/.exec(name_);
    const numbers = (m ?? []).slice(1).map(Number);
    if (kind === "card") {
      const card = await this.daemon.call<ModelCardResponse>(
        "GET",
        `/api/v1/models/${encodeURIComponent(name)}/card?version=${numbers[0]}`,
      );
      return card.markdown;
    }
    const [a, b] = numbers;
    const get = (v: number | undefined) =>
      this.daemon.call<ModelVersion>(
        "GET",
        `/api/v1/models/${encodeURIComponent(name)}/versions/${v}`,
      );
    return compareMarkdown(await get(a), await get(b));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

export function cardUri(model: string, version: number): vscode.Uri {
  return vscode.Uri.from({
    scheme: REGISTRY_DOC_SCHEME,
    path: `/card/${encodeURIComponent(model)}/${model}@v${version}.md`,
  });
}

export function compareUri(model: string, a: number, b: number): vscode.Uri {
  return vscode.Uri.from({
    scheme: REGISTRY_DOC_SCHEME,
    path: `/compare/${encodeURIComponent(model)}/${model} v${a} ↔ v${b}.md`,
  });
}

/** Opens a registry document in the markdown preview (the plain text when there is no preview). */
export async function showMarkdown(uri: vscode.Uri): Promise<void> {
  try {
    await vscode.commands.executeCommand("markdown.showPreview", uri);
  } catch {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

/** Both versions side by side; rows that differ are marked. */
export function compareMarkdown(a: ModelVersion, b: ModelVersion): string {
  const rows = (left: Record<string, unknown>, right: Record<string, unknown>) => {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    if (keys.length === 0) {
      return ["None."];
    }
    return [
      `| | v${a.version} | v${b.version} | |`,
      "|---|---|---|---|",
      ...keys.map((k) => {
        const x = show(left[k]);
        const y = show(right[k]);
        return `| ${k} | ${x} | ${y} | ${x === y ? "" : delta(left[k], right[k])} |`;
      }),
    ];
  };
  const facts = (v: ModelVersion) => ({
    aliases: v.aliases.map((x) => `@${x}`).join(" ") || "—",
    stage: v.stage,
    gate: v.gate ? (v.gate.passed ? "passed" : "failed") : "—",
    run: v.runId.slice(0, 12),
    "git commit": v.gitCommit?.slice(0, 12) ?? "—",
    file: v.oid.slice(0, 12),
    registered: new Date(v.createdAt).toISOString(),
  });
  const data = (v: ModelVersion) =>
    Object.fromEntries(v.dataIds.map((d) => [d.path, d.oid.slice(0, 12)]));
  return [
    `# ${a.model}: v${a.version} ↔ v${b.version}`,
    "",
    "## Version",
    "",
    ...rows(facts(a), facts(b)),
    "",
    "## Metrics",
    "",
    ...rows(a.metrics, b.metrics),
    "",
    "## Parameters",
    "",
    ...rows(a.params, b.params),
    "",
    "## Training data",
    "",
    ...rows(data(a), data(b)),
    "",
  ].join("\n");
}

function show(value: unknown): string {
  if (value === undefined) {
    return "—";
  }
  if (value === null) {
    return "NaN";
  }
  return (typeof value === "string" ? value : JSON.stringify(value)).replace(/\|/g, "\\|");
}

function delta(x: unknown, y: unknown): string {
  if (typeof x === "number" && typeof y === "number") {
    const d = y - x;
    return `${d > 0 ? "+" : ""}${Number(d.toPrecision(4))}`;
  }
  return "changed";
}
