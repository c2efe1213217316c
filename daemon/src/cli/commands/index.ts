/** Registers every CLI verb. One line per module; each module owns its verb(s). */
import type { Command } from "commander";
import { registerDaemon } from "./daemon";
import { registerDataCommands } from "./data";
import { registerDemoCommand } from "./demo";
import { registerLspCommand } from "./lsp";
import { registerModelCommands } from "./models";
import { registerPipelineCommands } from "./pipeline";

export function registerCommands(program: Command): void {
  registerDataCommands(program); // init, add, checkout, hash
  registerPipelineCommands(program); // repro, runs
  registerModelCommands(program); // models, deploy, undeploy, predict
  registerDemoCommand(program); // demo
  registerDaemon(program); // daemon
  registerLspCommand(program); // lsp
}
