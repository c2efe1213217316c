/** Registers every CLI verb. One line per module; each module owns its verb(s). */
import type { Command } from "commander";
import { registerDaemon } from "./daemon";

export function registerCommands(program: Command): void {
  registerDaemon(program);
}
