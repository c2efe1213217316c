/** The `lathe` command line. Each verb lives in commands/; this file only assembles them. */
import { Command, CommanderError } from "commander";
import { LATHE_VERSION } from "../version";
import { registerCommands } from "./commands";

const program = new Command("lathe")
  .description("Local MLOps: version data, run pipelines, track runs, register and serve models.")
  .version(LATHE_VERSION)
  .option("--json", "print machine-readable JSON")
  .option("--root <dir>", "the workspace folder (default: nearest folder with lathe.yaml)")
  .exitOverride();

// Under --json a usage error is one JSON document, like every other error; otherwise commander's
// own message, followed by the help.
const wantsJson = process.argv.slice(2).includes("--json");
if (wantsJson) {
  program.configureOutput({ writeErr: () => {} });
} else {
  program.showHelpAfterError();
}

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version exit 0; every usage error is exit code 2 (DESIGN.md).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    if (wantsJson && err.exitCode !== 0) {
      const message = err.message.replace(/^error: /, "");
      const error = { code: "LATHE_BAD_INPUT", message, data: { commander: err.code } };
      process.stderr.write(`${JSON.stringify({ error })}\n`);
    }
    return;
  }
  process.stderr.write(`lathe: ${(err as Error).message}\n`);
  process.exitCode = 70;
});
