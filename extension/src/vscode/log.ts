/**
 * The extension's leveled output channel "Lathe" (STYLE 3.8). The user picks the level in the
 * channel's own menu; we never log environment variables or the daemon token.
 */
import { inspect } from "node:util";
import * as vscode from "vscode";
import { LatheError } from "../../../daemon/src/errors";

let channel: vscode.LogOutputChannel | undefined;

/** Creates the channel once; the returned disposable belongs to the extension context. */
export function createLog(): vscode.Disposable {
  channel = vscode.window.createOutputChannel("Lathe", { log: true });
  return channel;
}

export const log = {
  trace: (msg: string, ...details: unknown[]) => channel?.trace(render(msg, details)),
  debug: (msg: string, ...details: unknown[]) => channel?.debug(render(msg, details)),
  info: (msg: string, ...details: unknown[]) => channel?.info(render(msg, details)),
  warn: (msg: string, ...details: unknown[]) => channel?.warn(render(msg, details)),
  error: (msg: string, ...details: unknown[]) => channel?.error(render(msg, details)),
  show: () => channel?.show(true),
};

function render(msg: string, details: unknown[]): string {
  const parts = details.map((d) => {
    if (d instanceof LatheError) {
      // A coded error is expected and explains itself; its stack is our own HTTP client's.
      return `${d.code}: ${d.message}${Object.keys(d.data).length ? ` ${inspect(d.data, { depth: 4 })}` : ""}`;
    }
    return d instanceof Error
      ? (d.stack ?? d.message)
      : typeof d === "string"
        ? d
        : inspect(d, { depth: 4 });
  });
  return [msg, ...parts].join(" ");
}
