/** The `lathe` command line. Each verb lives in commands/; this file only assembles them. */
import { Command, CommanderError } from "commander";
import { LATHE_VERSION } from "../version";
import { registerCommands } from "./commands";

const program = new Command("lathe")
  .description("Local MLOps: version data, run pipelines, track runs, register and serve models.")
  .version(LATHE_VERSION)
  .option("--json", "print machine-readable JSON")
  .option("--root <dir>", "the workspace folder (default: nearest folder with lathe.yaml)")
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version exit 0; every usage error is exit code 2 (DESIGN.md).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`lathe: ${(err as Error).message}\n`);
  process.exitCode = 70;
});
