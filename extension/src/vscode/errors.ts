/**
 * User-facing errors (STYLE 3.10): a short toast naming what failed with at most two buttons,
 * the full story in the log.
 */
import * as vscode from "vscode";
import { LatheError } from "../../../daemon/src/errors";
import { log } from "./log";

/** The message of an error, without its stack, for a toast. */
export function messageOf(err: unknown): string {
  if (err instanceof LatheError || err instanceof Error) {
    return err.message;
  }
  return String(err);
}

/** Logs `err` under `what` and shows "<what>: <message>" with an "Open Log" button. */
export async function reportError(what: string, err: unknown): Promise<void> {
  log.error(`${what}:`, err);
  const choice = await vscode.window.showErrorMessage(`${what}: ${messageOf(err)}`, "Open Log");
  if (choice === "Open Log") {
    log.show();
  }
}

/** Runs a command body, reporting anything it throws instead of letting VS Code swallow it. */
export function guarded<A extends unknown[]>(
  what: string,
  body: (...args: A) => Promise<unknown>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (err) {
      await reportError(what, err);
    }
  };
}
