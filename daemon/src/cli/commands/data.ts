import type { Command } from "commander";

export function registerDataCommands(program: Command): void {
  void program; // FIXME(#2): placeholder until this verb's owner lands it.
}
