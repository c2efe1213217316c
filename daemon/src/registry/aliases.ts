/**
 * Aliases and stages: the moves between versions, each written to the audit log in the same
 * transaction, and announced as `models/changed` (with the alias move) so that a deployment of
 * `model@alias` can follow. Rollback moves an alias back to the version it left last.
 */
import type { ModelVersion } from "../../../schemas/api";
import {
  ALIAS_PATTERN,
  MODEL_STAGES,
  type AliasMove,
  type ModelStage,
  type RegistryAuditEntry,
} from "../../../schemas/registry";
import type { Context } from "../context";
import { LatheError } from "../errors";
import { getModel, getVersion } from "./models";

const aliasPattern = new RegExp(ALIAS_PATTERN);

/** Who made a move, as the audit log records it: the CLI, the editor, a gate, MLflow's client. */
export interface MoveNote {
  reason?: string;
  actor?: string;
}

/** Throws LATHE_BAD_INPUT unless `alias` is a name an alias may have. */
export function checkAliasName(alias: string): void {
  const reserved = alias === "latest" || /^v\d+$/.test(alias);
  if (!aliasPattern.test(alias) || reserved) {
    const why = reserved
      ? `'${alias}' is reserved ('latest' and v<number> name versions)`
      : `'${alias}' is not a valid alias`;
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `${why}: use a letter, then up to 63 letters, digits, '_' or '-' (e.g. champion).`,
      { alias },
    );
  }
}

/** The version an alias points at, or undefined when the model has no such alias. */
export function aliasVersion(ctx: Context, model: string, alias: string): number | undefined {
  const row = ctx.db
    .prepare("SELECT version FROM model_aliases WHERE model = ? AND alias = ?")
    .get(model, alias) as { version: number } | undefined;
  return row?.version;
}

/** The version an alias points at; LATHE_NOT_FOUND naming the model's aliases otherwise. */
export function requireAlias(ctx: Context, model: string, alias: string): number {
  const model_ = getModel(ctx, model);
  const version = model_.aliases[alias];
  if (version === undefined) {
    const known = Object.keys(model_.aliases);
    const hint = known.length ? `its aliases: ${known.join(", ")}` : "it has no aliases yet";
    throw new LatheError("LATHE_NOT_FOUND", `Model '${model}' has no alias '${alias}' (${hint}).`, {
      model,
      alias,
    });
  }
  return version;
}

/** Points `alias` at `version` (creating it); a no-op, unrecorded, when it points there already. */
export function setAlias(
  ctx: Context,
  model: string,
  alias: string,
  version: number,
  note: MoveNote = {},
): ModelVersion {
  checkAliasName(alias);
  getVersion(ctx, model, version); // Unknown model or version: LATHE_NOT_FOUND.
  const from = aliasVersion(ctx, model, alias) ?? null;
  if (from !== version) {
    ctx.db
      .transaction(() => {
        ctx.db
          .prepare(
            `INSERT INTO model_aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version,
               updated_at = excluded.updated_at`,
          )
          .run(model, alias, version, Date.now());
        audit(ctx, model, "alias", alias, from, version, note);
      })
      .immediate();
    announce(ctx, model, { name: alias, from, to: version }, note);
  }
  return getVersion(ctx, model, version);
}

/** Removes an alias; LATHE_NOT_FOUND when the model has no such alias. */
export function deleteAlias(ctx: Context, model: string, alias: string, note: MoveNote = {}): void {
  checkAliasName(alias);
  const from = requireAlias(ctx, model, alias);
  ctx.db
    .transaction(() => {
      ctx.db.prepare("DELETE FROM model_aliases WHERE model = ? AND alias = ?").run(model, alias);
      audit(ctx, model, "alias", alias, from, null, note);
    })
    .immediate();
  announce(ctx, model, { name: alias, from, to: null }, note);
}

/**
 * Moves `alias` back to the version it pointed at before its last move. LATHE_CONFLICT when it
 * has no earlier version (it was only ever set once) or that version is the current one.
 */
export function rollbackAlias(
  ctx: Context,
  model: string,
  alias: string,
  note: MoveNote = {},
): ModelVersion {
  checkAliasName(alias);
  const current = requireAlias(ctx, model, alias);
  const last = ctx.db
    .prepare(
      `SELECT from_value FROM registry_audit WHERE model = ? AND kind = 'alias' AND name = ?
       ORDER BY id DESC LIMIT 1`,
    )
    .get(model, alias) as { from_value: string | null } | undefined;
  const previous = last?.from_value === null || !last ? null : Number(last.from_value);
  if (previous === null || previous === current) {
    throw new LatheError(
      "LATHE_CONFLICT",
      `${model}@${alias} has no earlier version to roll back to (it points at version ${current} and was not moved from another).`,
      { model, alias, version: current },
    );
  }
  const reason = note.reason || `rollback from version ${current}`;
  return setAlias(ctx, model, alias, previous, { ...note, reason });
}

/** Sets a version's MLflow-style stage; `archiveExisting` archives the others in that stage. */
export function setStage(
  ctx: Context,
  model: string,
  version: number,
  stage: ModelStage,
  note: MoveNote & { archiveExisting?: boolean } = {},
): ModelVersion {
  const canonical = MODEL_STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!canonical) {
    throw new LatheError(
      "LATHE_BAD_INPUT",
      `'${stage}' is not a stage: use one of ${MODEL_STAGES.join(", ")}.`,
      { stage },
    );
  }
  const current = getVersion(ctx, model, version);
  const others =
    note.archiveExisting && canonical !== "None" && canonical !== "Archived"
      ? getModel(ctx, model).versions.filter((v) => v.version !== version && v.stage === canonical)
      : [];
  const moves = [
    { version, from: current.stage, to: canonical },
    ...others.map((v) => ({ version: v.version, from: v.stage, to: "Archived" })),
  ].filter((m) => m.from !== m.to);
  if (moves.length === 0) {
    return current;
  }
  ctx.db
    .transaction(() => {
      const update = ctx.db.prepare(
        "UPDATE model_versions SET stage = ?, updated_at = ? WHERE model = ? AND version = ?",
      );
      for (const m of moves) {
        update.run(m.to, Date.now(), model, m.version);
        audit(ctx, model, "stage", String(m.version), m.from, m.to, note);
      }
    })
    .immediate();
  ctx.log.info({ model, version, stage: canonical }, "model stage set");
  ctx.events.emit({ type: "models/changed", model });
  return getVersion(ctx, model, version);
}

/** The audit log of a model, newest first (at most `limit` entries). */
export function auditLog(ctx: Context, model: string, limit = 200): RegistryAuditEntry[] {
  getModel(ctx, model);
  const rows = ctx.db
    .prepare("SELECT * FROM registry_audit WHERE model = ? ORDER BY id DESC LIMIT ?")
    .all(model, limit) as {
    id: number;
    model: string;
    kind: RegistryAuditEntry["kind"];
    name: string;
    from_value: string | null;
    to_value: string | null;
    reason: string;
    actor: string;
    at: number;
  }[];
  return rows.map((r) => ({
    id: r.id,
    model: r.model,
    kind: r.kind,
    name: r.name,
    from: r.from_value,
    to: r.to_value,
    reason: r.reason,
    actor: r.actor,
    at: r.at,
  }));
}

/** Writes one audit log entry; callers run it inside the transaction of the change it records. */
export function audit(
  ctx: Context,
  model: string,
  kind: RegistryAuditEntry["kind"],
  name: string,
  from: number | string | null,
  to: number | string | null,
  note: MoveNote,
): void {
  ctx.db
    .prepare(
      `INSERT INTO registry_audit (model, kind, name, from_value, to_value, reason, actor, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      model,
      kind,
      name,
      from === null ? null : String(from),
      to === null ? null : String(to),
      note.reason ?? "",
      note.actor ?? "",
      Date.now(),
    );
}

function announce(ctx: Context, model: string, move: AliasMove, note: MoveNote): void {
  ctx.log.info({ model, ...move, reason: note.reason, actor: note.actor }, "model alias moved");
  ctx.events.emit({ type: "models/changed", model, alias: move });
}
