/**
 * "Re-run with Edited Params…" on a stage run: a quick pick of the params the stage declares in
 * lathe.yaml (not the ones its script logged itself), an input box per edited one, then the run's
 * recorded values plus the edits are written into the params files and the stage and what is
 * downstream of it repro as new tracked runs. Values in the files that differ from the run's are
 * named before anything is written. The planning is pure (paramsEdit.ts).
 */
import { readFile } from "node:fs/promises";
import * as vscode from "vscode";
import type { PipelineDag, RunSummary } from "../../../schemas/api";
import { resolveInside } from "../../../daemon/src/workspace";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";
import {
  applyParamEdits,
  paramsFiles,
  planRerun,
  restoredText,
  stageParamsFile,
  type RerunPlan,
} from "./paramsEdit";
import { reproduce } from "./reproduce";
import type { RunsNode } from "./runNodes";

type DagStage = PipelineDag["stages"][number];

export async function rerunWithParams(
  daemon: DaemonConnection,
  root: string,
  node?: RunsNode,
): Promise<void> {
  const run = node && "run" in node ? node.run : undefined;
  if (!run?.stage) {
    void vscode.window.showInformationMessage(
      "Re-run works on a stage run: expand a repro in the Runs view and pick one of its stages.",
    );
    return;
  }
  // The stage as lathe.yaml has it now (what the re-run will run): its params and its wdir.
  const dag = await daemon.call<PipelineDag>("GET", "/api/v1/pipeline/dag");
  const stage = dag.stages.find((s) => s.name === run.stage);
  if (!stage) {
    void vscode.window.showWarningMessage(
      `Stage ${run.stage} is no longer in ${dag.file}; there is nothing to re-run.`,
    );
    return;
  }
  const defaultFile = stageParamsFile(stage.wdir);
  const fileNames = paramsFiles(stage.params, defaultFile);
  const planWith = (files: Map<string, string | undefined>) => (edits: Record<string, string>) =>
    planRerun({ declared: stage.params, runParams: run.params, edits, files, defaultFile });
  const shown = planWith(await readParamsFiles(root, fileNames));
  shown({}); // a missing or broken params file is refused before the pick

  const edits = await pickEdits(run, stage, shown);
  if (!edits) {
    return;
  }
  // Read again: the files may have been edited while the pick was open.
  const files = await readParamsFiles(root, fileNames);
  const plan = planWith(files)(edits);
  logPlan(run, plan);
  const proceed = await confirm(run, plan);
  if (proceed === "cancel") {
    return;
  }
  await writePlan(root, plan, files);
  await reproduce(daemon, { stages: [stage.name], downstream: true, force: proceed === "force" });
}

/**
 * The declared params in a quick pick, each with the value the re-run will use; picking one asks
 * for its value, the first item ends. Returns the edited values, or undefined when cancelled.
 */
async function pickEdits(
  run: RunSummary,
  stage: DagStage,
  planFor: (edits: Record<string, string>) => RerunPlan,
): Promise<Record<string, string> | undefined> {
  const edits: Record<string, string> = {};
  const keys = [...stage.params].sort();
  for (;;) {
    const plan = planFor(edits);
    type Item = vscode.QuickPickItem & { key?: string };
    const items: Item[] = [
      { label: `$(play) Re-run ${stage.name} with these params`, alwaysShow: true },
      ...keys.map((key) => ({ key, label: key, ...itemText(key, run, plan) })),
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Re-run ${stage.name} (${run.id.slice(0, 7)}): pick a param to edit`,
      placeHolder:
        keys.length > 0
          ? "Params lathe.yaml declares for the stage; pick one to change its value, or the first item to run"
          : `${stage.name} declares no params in lathe.yaml; the first item runs it as it is`,
    });
    if (!picked) {
      return undefined;
    }
    if (picked.key === undefined) {
      return edits;
    }
    const was = run.params[picked.key];
    const value = await vscode.window.showInputBox({
      title: `${picked.key} (${was === undefined ? "not recorded by this run" : `was ${was}`})`,
      value: edits[picked.key] ?? was ?? "",
      prompt: "A YAML value: 0.01, true, text, [1, 2]",
    });
    if (value === undefined) {
      continue;
    }
    if (value === was) {
      delete edits[picked.key];
    } else {
      edits[picked.key] = value;
    }
  }
}

/** A param's row: the value the re-run uses, and where it comes from when not the run's. */
function itemText(
  key: string,
  run: RunSummary,
  plan: RerunPlan,
): { description?: string; detail?: string } {
  const edited = plan.edited.find((e) => e.key === key);
  if (edited) {
    const was = edited.run === null ? "not recorded by this run" : `was ${edited.run}`;
    return { description: edited.value, detail: `edited, ${was}` };
  }
  const restored = plan.restored.find((r) => r.key === key);
  if (restored) {
    const now = restored.current === null ? "lacks it" : `has ${restored.current} now`;
    return {
      description: restored.run,
      detail: `${restored.file} ${now}; the run's value is written back`,
    };
  }
  const unrecorded = plan.unrecorded.find((u) => u.key === key);
  if (unrecorded) {
    return {
      description: unrecorded.current ?? "",
      detail: "not recorded by this run (declared since); the file's value is kept",
    };
  }
  return { description: run.params[key] };
}

/**
 * Asks before writing values the user did not pick (params the files now hold differently);
 * "force" when nothing is written, so the stage runs even though nothing changed.
 */
async function confirm(run: RunSummary, plan: RerunPlan): Promise<"run" | "force" | "cancel"> {
  const name = `${run.stage} (${run.id.slice(0, 7)})`;
  if (plan.byFile.size === 0) {
    const again = await vscode.window.showInformationMessage(
      `The params files already hold the values of run ${name}; nothing to write.`,
      "Run Anyway",
    );
    return again === "Run Anyway" ? "force" : "cancel";
  }
  if (plan.restored.length === 0) {
    return "run";
  }
  const n = plan.restored.length;
  const choice = await vscode.window.showWarningMessage(
    `${n} param${n === 1 ? "" : "s"} of ${name} differ${n === 1 ? "s" : ""} from the params files now; the re-run writes the run's value${n === 1 ? "" : "s"} back.`,
    {
      modal: true,
      detail: [
        "Set back to the run's values:",
        ...plan.restored.map((r) => `  ${restoredText(r)}`),
        ...(plan.edited.length > 0
          ? ["Edited:", ...plan.edited.map((e) => `  ${e.key}: ${e.value} (the run had ${e.run})`)]
          : []),
      ].join("\n"),
    },
    "Re-run",
  );
  return choice === "Re-run" ? "run" : "cancel";
}

function logPlan(run: RunSummary, plan: RerunPlan): void {
  const lines = [
    ...plan.edited.map((e) => `  edited ${e.key}: ${e.value} (the run had ${e.run})`),
    ...plan.restored.map((r) => `  set back ${restoredText(r)}`),
    ...plan.unrecorded.map((u) => `  kept ${u.key}: ${u.current} (not recorded by the run)`),
  ];
  log.info(
    `Re-run of ${run.stage} from run ${run.id}: ${lines.length ? `\n${lines.join("\n")}` : "no param differs from the files"}`,
  );
}

/** Each file's text as the editor has it (unsaved changes included); undefined when missing. */
async function readParamsFiles(
  root: string,
  files: string[],
): Promise<Map<string, string | undefined>> {
  const texts = new Map<string, string | undefined>();
  for (const file of files) {
    const uri = vscode.Uri.file(resolveInside(root, file, "params file"));
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    if (open?.isDirty) {
      texts.set(file, open.getText());
      continue;
    }
    try {
      texts.set(file, await readFile(uri.fsPath, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw err;
      }
      texts.set(file, undefined); // planRerun names the missing file
    }
  }
  return texts;
}

/** The plan's edits through one WorkspaceEdit (undoable, comments kept), then saved. */
async function writePlan(
  root: string,
  plan: RerunPlan,
  files: Map<string, string | undefined>,
): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  const touched: vscode.Uri[] = [];
  for (const [file, edits] of plan.byFile) {
    const uri = vscode.Uri.file(resolveInside(root, file, "params file"));
    const doc = await vscode.workspace.openTextDocument(uri);
    const whole = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    edit.replace(uri, whole, applyParamEdits(file, files.get(file) ?? "", edits));
    touched.push(uri);
  }
  if (touched.length > 0 && !(await vscode.workspace.applyEdit(edit))) {
    throw new Error("The editor refused the edit of the params file.");
  }
  for (const uri of touched) {
    await (await vscode.workspace.openTextDocument(uri)).save();
  }
}
