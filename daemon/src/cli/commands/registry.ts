/**
 * `lathe models card|promote|rollback|unalias|history|annotate` (#5), and the lines `lathe
 * repro` prints for the `models:` section. Reads run in process; moves go through the
 * workspace daemon when one runs, so that its deployments of `model@alias` hear of them.
 */
import type { Command } from "commander";
import { userInfo } from "node:os";
import type { ModelVersion, RegisteredModel } from "../../../../schemas/api";
import type {
  ModelGateOutcome,
  ModelStage,
  RegistryAuditEntry,
} from "../../../../schemas/registry";
import { findDaemon, type DaemonHandle } from "../../client";
import { closeContext, openContext, type Context } from "../../context";
import { LatheError } from "../../errors";
import { auditLog, deleteAlias, rollbackAlias, setAlias, setStage } from "../../registry/aliases";
import { modelCard } from "../../registry/card";
import { getModel } from "../../registry/models";
import { updateVersion } from "../../registry/notes";
import { parseTarget, resolveTarget } from "../../registry/target";
import { action, print, workspaceFor } from "../output";
import { descriptionOption, tagOption } from "../parse";

export function registerRegistryCommands(models: Command): void {
  models
    .command("card <target>")
    .description("print the model card (markdown) of <name>, <name>@<version> or <name>@<alias>")
    .action(
      action((target: string, _opts: unknown, cmd: Command) => {
        const card = inProcess(cmd, (ctx) => modelCard(ctx, target));
        print(cmd, card, () => card.markdown);
      }),
    );

  models
    .command("promote <target> [alias]")
    .description("point an alias (e.g. champion) at a version, and/or set its stage (--stage)")
    .option(
      "--stage <stage>",
      "also set the MLflow-style stage: None, Staging, Production, Archived",
    )
    .option("--archive-existing", "with --stage: move other versions in that stage to Archived")
    .option("--reason <text>", "why, for the audit log")
    .action(action(promote));

  models
    .command("rollback <target>")
    .description("move <name>@<alias> back to the version it pointed at before its last move")
    .option("--reason <text>", "why, for the audit log")
    .action(
      action(async (target: string, opts: { reason?: string }, cmd: Command) => {
        const { model, alias } = aliasTarget(target);
        const note = { reason: opts.reason, actor: actor() };
        const moved = await mutate<ModelVersion>(
          cmd,
          (d) =>
            d.call(
              "POST",
              `${modelPath(model)}/aliases/${encodeURIComponent(alias)}/rollback`,
              note,
            ),
          (ctx) => rollbackAlias(ctx, model, alias, note),
        );
        print(cmd, moved, () => `${model}@${alias} → version ${moved.version} (rolled back).`);
      }),
    );

  models
    .command("unalias <target>")
    .description("remove the alias of <name>@<alias>")
    .option("--reason <text>", "why, for the audit log")
    .action(
      action(async (target: string, opts: { reason?: string }, cmd: Command) => {
        const { model, alias } = aliasTarget(target);
        const note = { reason: opts.reason ?? "", actor: actor() };
        const query = new URLSearchParams(note).toString();
        const after = await mutate<RegisteredModel>(
          cmd,
          (d) =>
            d.call("DELETE", `${modelPath(model)}/aliases/${encodeURIComponent(alias)}?${query}`),
          (ctx) => {
            deleteAlias(ctx, model, alias, note);
            return getModel(ctx, model);
          },
        );
        print(cmd, after, () => `Removed ${model}@${alias}.`);
      }),
    );

  models
    .command("history <model>")
    .description("the audit log of a model's alias and stage moves, newest first")
    .action(
      action((model: string, _opts: unknown, cmd: Command) => {
        const log = inProcess(cmd, (ctx) => auditLog(ctx, model));
        print(cmd, log, () =>
          log.length ? log.map(historyLine).join("\n") : `No moves of ${model} yet.`,
        );
      }),
    );

  models
    .command("annotate <target>")
    .description("set a version's description and tags (key=value), or delete tags")
    .option("--description <text>", "the version's description", descriptionOption)
    .option("--tag <key=value...>", "tags to set", tagOption)
    .option("--delete-tag <key...>", "tags to delete")
    .action(action(annotate));
}

async function promote(
  target: string,
  alias: string | undefined,
  opts: { stage?: string; archiveExisting?: boolean; reason?: string },
  cmd: Command,
): Promise<void> {
  if (alias === undefined && opts.stage === undefined) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `Name an alias or a stage: 'lathe models promote ${target} champion' or '--stage Production'.`,
    );
  }
  const model = parseTarget(target).model;
  const version = inProcess(cmd, (ctx) => resolveTarget(ctx, target).version);
  const note = { reason: opts.reason, actor: actor() };
  let result: ModelVersion | undefined;
  if (alias !== undefined) {
    result = await mutate<ModelVersion>(
      cmd,
      (d) =>
        d.call("PUT", `${modelPath(model)}/aliases/${encodeURIComponent(alias)}`, {
          version,
          ...note,
        }),
      (ctx) => setAlias(ctx, model, alias, version, note),
    );
  }
  if (opts.stage !== undefined) {
    const stage = opts.stage as ModelStage;
    const body = { stage, ...note, archiveExisting: opts.archiveExisting };
    result = await mutate<ModelVersion>(
      cmd,
      (d) => d.call("PUT", `${modelPath(model)}/versions/${version}/stage`, body),
      (ctx) =>
        setStage(ctx, model, version, stage, { ...note, archiveExisting: opts.archiveExisting }),
    );
  }
  const done = result!;
  const what = [alias && `@${alias}`, opts.stage && `stage ${done.stage}`]
    .filter(Boolean)
    .join(", ");
  print(cmd, done, () => `${model} version ${done.version}: ${what}.`);
}

async function annotate(
  target: string,
  opts: { description?: string; tag?: Record<string, string>; deleteTag?: string[] },
  cmd: Command,
): Promise<void> {
  const update = {
    description: opts.description,
    tags: opts.tag ?? {},
    deleteTags: opts.deleteTag,
  };
  const { model, version } = inProcess(cmd, (ctx) => resolveTarget(ctx, target));
  const done = await mutate<ModelVersion>(
    cmd,
    (d) => d.call("PATCH", `${modelPath(model)}/versions/${version}`, update),
    (ctx) => updateVersion(ctx, model, version, update),
  );
  print(
    cmd,
    done,
    () =>
      `${model} version ${version}: ${JSON.stringify({ description: done.description, tags: done.tags })}`,
  );
}

/** The lines `lathe repro` prints for the `models:` section. */
export function modelLines(outcomes: ModelGateOutcome[] | undefined): string {
  return (outcomes ?? [])
    .map((o) => {
      const verb =
        o.status === "not-run" ? "skipped " : o.gate && !o.gate.passed ? "GATE    " : "model   ";
      const where = o.status === "not-run" ? `${o.model}: not registered: ${o.reason}` : o.reason;
      const conditions = (o.gate?.conditions ?? []).map(
        (c) => `\n           ${c.status.padEnd(7)} ${c.text}: ${c.detail}`,
      );
      return `${verb} ${where}${o.status === "unchanged" ? " (same bytes as before)" : ""}${conditions.join("")}`;
    })
    .join("\n");
}

export { throwIfGateFailed } from "../../registry/gates";

function historyLine(e: RegistryAuditEntry): string {
  const what = {
    alias: `@${e.name}`,
    stage: `v${e.name} stage`,
    version: `v${e.name} deleted`,
    rename: "renamed",
  }[e.kind];
  const why = [e.reason, e.actor].filter(Boolean).join(" · ");
  return `${new Date(e.at).toISOString()}  ${what.padEnd(16)} ${e.from ?? "—"} → ${e.to ?? "—"}${why ? `  (${why})` : ""}`;
}

function aliasTarget(target: string): { model: string; alias: string } {
  const spec = parseTarget(target);
  if (spec.alias === undefined) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${target}' names no alias: use <model>@<alias>, e.g. weather-model@champion.`,
      { target },
    );
  }
  return { model: spec.model, alias: spec.alias };
}

function modelPath(model: string): string {
  return `/api/v1/models/${encodeURIComponent(model)}`;
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli";
  }
}

function inProcess<T>(cmd: Command, fn: (ctx: Context) => T): T {
  const ctx = openContext(workspaceFor(cmd).root, { quiet: true });
  try {
    return fn(ctx);
  } finally {
    closeContext(ctx);
  }
}

/** Through the daemon when one runs (its event bus must hear of the move), else in process. */
async function mutate<T>(
  cmd: Command,
  viaDaemon: (daemon: DaemonHandle) => Promise<T>,
  local: (ctx: Context) => T,
): Promise<T> {
  const daemon = await findDaemon(workspaceFor(cmd).root);
  return daemon ? viaDaemon(daemon) : inProcess(cmd, local);
}
