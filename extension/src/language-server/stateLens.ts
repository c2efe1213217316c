/**
 * The words of a stage's state code lens: "up to date", "stale: dep data/x.csv changed", "never
 * ran", "frozen"; for a foreach/matrix stage, its generated stages counted. The lens is a label:
 * its command id is empty, so the editor shows it without a link, and its tooltip lists every
 * reason.
 */
import type { Command } from "vscode-languageserver";
import type { StageStatus } from "./staleness";

export function stateCommand(statuses: StageStatus[], isGroup: boolean): Command {
  const { title, tooltip } = isGroup ? groupWords(statuses) : stageWords(statuses[0]!);
  return { title, command: "", tooltip };
}

function stageWords(status: StageStatus): { title: string; tooltip: string } {
  const reasons = status.reasons.map((r) => r.message);
  const [first] = status.reasons;
  switch (status.state) {
    case "frozen":
      return { title: "$(lock) frozen", tooltip: "frozen: `lathe repro` never runs it" };
    case "up-to-date":
      return {
        title: `$(check) up to date${uncheckedText(status.unchecked)}`,
        tooltip: "cmd, deps, params and outs are as lathe.lock recorded them",
      };
    case "stale":
      return {
        title:
          first?.kind === "never-ran"
            ? "$(circle-outline) never ran"
            : `$(warning) stale: ${first?.message}${reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ""}`,
        tooltip: reasons.join("\n"),
      };
  }
}

function groupWords(statuses: StageStatus[]): { title: string; tooltip: string } {
  const tooltip = statuses
    .map((s) => `${s.name}: ${stageWords(s).title.replace(/^\$\([\w-]+\) /, "")}`)
    .join("\n");
  const stale = statuses.filter((s) => s.state === "stale");
  const frozen = statuses.filter((s) => s.state === "frozen");
  if (frozen.length === statuses.length) {
    return { title: "$(lock) frozen", tooltip };
  }
  if (stale.length === 0) {
    const also = frozen.length ? `, ${frozen.length} frozen` : "";
    const unchecked = uncheckedText(statuses.flatMap((s) => s.unchecked));
    return {
      title: `$(check) ${statuses.length - frozen.length} up to date${also}${unchecked}`,
      tooltip,
    };
  }
  const neverRan = stale.every((s) => s.reasons[0]?.kind === "never-ran");
  if (neverRan && stale.length === statuses.length) {
    return { title: "$(circle-outline) never ran", tooltip };
  }
  const first = stale[0]!;
  return {
    title: `$(warning) ${stale.length} of ${statuses.length} stale: ${first.name}: ${first.reasons[0]?.message}`,
    tooltip,
  };
}

/** `, data/big.bin not re-hashed` (up to date as far as the server could tell). */
function uncheckedText(paths: string[]): string {
  const unique = [...new Set(paths)];
  if (unique.length === 0) {
    return "";
  }
  return unique.length === 1
    ? `, ${unique[0]} not re-hashed`
    : `, ${unique.length} paths not re-hashed`;
}
