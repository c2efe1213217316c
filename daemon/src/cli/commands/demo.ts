import type { Command } from "commander";

export function registerDemoCommand(program: Command): void {
  void program; // FIXME(#2): placeholder until this verb's owner lands it.
}
