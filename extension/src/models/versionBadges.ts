/**
 * How a model version shows its registry state in the Models view (#5): alias badges and stage
 * first in the description, the gate result as the icon (theme colours), and the gate's
 * conditions with both values in the tooltip.
 */
import * as vscode from "vscode";
import type { ModelVersion } from "../../../schemas/api";

/** `@champion`, `@challenger`, `Production`, `gate failed`: the first parts of the description. */
export function versionBadges(version: ModelVersion): string[] {
  const parts = version.aliases.map((a) => `@${a}`);
  if (version.stage !== "None") {
    parts.push(version.stage);
  }
  if (version.gate) {
    parts.push(version.gate.passed ? "gate passed" : "gate failed");
  }
  return parts;
}

export function versionIcon(version: ModelVersion): vscode.ThemeIcon {
  if (version.gate) {
    return version.gate.passed
      ? new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed"))
      : new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed"));
  }
  return new vscode.ThemeIcon(version.aliases.length ? "star-full" : "versions");
}

export function appendRegistryTooltip(md: vscode.MarkdownString, version: ModelVersion): void {
  if (version.aliases.length) {
    md.appendMarkdown(`Aliases: ${version.aliases.map((a) => `\`@${a}\``).join(", ")}\n\n`);
  }
  md.appendMarkdown(`Stage: ${version.stage}\n\n`);
  if (version.description) {
    md.appendText(`${version.description}\n\n`);
  }
  if (version.gate) {
    md.appendMarkdown(
      `Gate **${version.gate.passed ? "passed" : "failed"}** (${version.gate.source}):\n\n`,
    );
    for (const c of version.gate.conditions) {
      const mark = c.status === "passed" ? "✓" : c.status === "failed" ? "✗" : "–";
      md.appendText(`${mark} ${c.text}: ${c.detail}\n`);
      md.appendMarkdown("\n");
    }
    md.appendMarkdown("\n");
  }
}
