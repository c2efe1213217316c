/** `lathe demo`: the walking skeleton on real data, through the CLI, in a temporary folder. */
import type { Command } from "commander";
import { runDemo } from "../../demo/demo";
import { action, globals } from "../output";

export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "copy examples/weather to a temporary folder and run add, repro, register, deploy, predict",
    )
    .option("--keep", "leave the folder, the daemon and the deployment running")
    .option("--dir <dir>", "use this (empty or new) folder instead of a temporary one")
    .action(
      action(async (opts: { keep?: boolean; dir?: string }, cmd: Command) => {
        await runDemo({
          keep: Boolean(opts.keep),
          dir: opts.dir,
          json: Boolean(globals(cmd).json),
        });
      }),
    );
}
