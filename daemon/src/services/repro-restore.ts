/**
 * Restoring a stage from the run cache: its inputs match an earlier successful run, so its
 * outputs are written back from the content store instead of running the command. The restore
 * is a run of its own (FINISHED, tagged `lathe.restoredFrom`), so the Runs view shows it.
 */
import { join, posix } from "node:path";
import type { StageResult } from "../../../schemas/api";
import { objectExists } from "../data/objects";
import { restorePath } from "../data/restore";
import { toLatheError } from "../errors";
import { lockEntryOf, writeLockEntry, type LockedPath, type StageState } from "../pipeline/lock";
import { runParams } from "../pipeline/params";
import { DEFAULT_PARAMS_FILE } from "../pipeline/parse";
import type { RunCacheEntry } from "../pipeline/runcache";
import { stageOutputs, type Stage } from "../pipeline/spec";
import { addRunFiles, createRun, finishRun, logParams, setRunTags } from "../store/runs";
import type { Workspace } from "../workspace";
import { recordMetrics, removeOutputs, type ReproScope } from "./repro-stage";

/** True when every object the outputs need is in the store (a tree's entries are not checked). */
export async function inStore(ws: Workspace, outs: LockedPath[]): Promise<boolean> {
  const found = await Promise.all(outs.map((o) => objectExists(ws, o.oid)));
  return found.every(Boolean);
}

export async function restoreStage(
  scope: ReproScope,
  stage: Stage,
  state: StageState,
  cached: RunCacheEntry,
  reason: string,
): Promise<StageResult> {
  const { ctx } = scope;
  const runId = createRun(ctx.db, {
    experimentId: scope.experimentId,
    name: stage.name,
    parentId: scope.parentId,
    stage: stage.name,
    command: stage.cmd,
    cwd: stage.wdir ? join(ctx.ws.root, stage.wdir) : ctx.ws.root,
    gitCommit: scope.git.commit,
    gitDirty: scope.git.dirty,
  });
  setRunTags(ctx.db, runId, { "lathe.restoredFrom": cached.runId });
  logParams(ctx.db, runId, runParams(state.params, posix.join(stage.wdir, DEFAULT_PARAMS_FILE)));
  addRunFiles(ctx.db, runId, "in", state.deps);
  ctx.events.emit({ type: "runs/changed", runId });

  const said = `restored from run cache (run ${cached.runId.slice(0, 8)})`;
  try {
    await writeOutputs(scope, stage, cached.outs);
  } catch (err) {
    // A damaged or missing object: the restore failed, and so does the stage (run it with -f).
    const error = toLatheError(err);
    finishRun(ctx.db, runId, { status: "FAILED", error: error.message });
    ctx.events.emit({ type: "runs/changed", runId });
    return { stage: stage.name, status: "failed", runId, reason: error.message };
  }

  addRunFiles(ctx.db, runId, "out", cached.outs);
  const { notes, warnings } = recordMetrics(scope, stage, runId);
  writeLockEntry(ctx.ws.root, stage.name, lockEntryOf(state, cached.outs), scope.order);
  const log = [`lathe: ${reason}; ${said}; the command did not run.`, ...notes].join("\n");
  finishRun(ctx.db, runId, { status: "FINISHED", exitCode: 0, log: `${log}\n` });
  ctx.events.emit({ type: "runs/changed", runId });
  ctx.log.info({ stage: stage.name, runId, from: cached.runId }, "stage restored from run cache");
  const result: StageResult = { stage: stage.name, status: "restored", runId, reason: said };
  return warnings.length ? { ...result, warnings } : result;
}

async function writeOutputs(scope: ReproScope, stage: Stage, outs: LockedPath[]): Promise<void> {
  await removeOutputs(scope.guard, stage, () => true);
  const declared = new Map(stageOutputs(stage).map((o) => [o.wsPath, o]));
  for (const out of outs) {
    const entry = declared.get(out.path);
    if (entry) {
      await restorePath(scope.ctx.ws, out.oid, scope.guard.output(stage, entry), {
        executable: out.executable,
      });
    }
  }
}
