/**
 * "Choose Headline Metric…" on an experiment in the Runs view (or from the command palette, with
 * a pick of experiments): a quick pick of the metric keys its runs logged, the current one
 * marked and focused; the choice is kept per experiment in the workspace's state.
 */
import * as vscode from "vscode";
import type { Experiment } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";
import {
  MAX_RUNS_READ,
  experimentMetricKeys,
  headlineChoices,
  type HeadlineChoice,
  type HeadlineMetrics,
} from "./headlineMetrics";
import type { RunsNode } from "./runNodes";

/** Returns true when the choice changed (the view then redraws its runs). */
export async function chooseHeadlineMetric(
  daemon: DaemonConnection,
  headlines: HeadlineMetrics,
  node?: RunsNode,
): Promise<boolean> {
  const experiment = node?.kind === "experiment" ? node.experiment : await pickExperiment(daemon);
  if (!experiment) {
    return false;
  }
  const { keys, runs } = await experimentMetricKeys(daemon, experiment.id);
  const chosen = headlines.chosen(experiment.name);
  const fallback = readSettings().headlineMetric;
  const picked = await pickChoice(
    headlineChoices(keys, runs, chosen, fallback),
    `Headline metric of ${experiment.name}`,
    runs >= MAX_RUNS_READ
      ? `Metrics of its newest ${MAX_RUNS_READ} runs`
      : "Shown beside each of its runs in the Runs view",
  );
  if (!picked || picked.current) {
    return false;
  }
  await headlines.choose(experiment.name, picked.metric);
  log.info(
    `Headline metric of ${experiment.name}: ${picked.metric ?? `the setting's (${fallback})`}`,
  );
  return true;
}

async function pickExperiment(daemon: DaemonConnection): Promise<Experiment | undefined> {
  const experiments = (await daemon.call<Experiment[]>("GET", "/api/v1/experiments")).filter(
    (e) => e.runCount > 0,
  );
  if (experiments.length === 0) {
    void vscode.window.showInformationMessage("No experiment has runs yet.");
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    experiments.map((experiment) => ({
      label: experiment.name,
      description: `${experiment.runCount} run${experiment.runCount === 1 ? "" : "s"}`,
      experiment,
    })),
    { title: "Choose Headline Metric", placeHolder: "Pick the experiment" },
  );
  return picked?.experiment;
}

/** A quick pick that opens on the current metric, so Enter keeps it and arrows move from it. */
function pickChoice(
  choices: HeadlineChoice[],
  title: string,
  placeholder: string,
): Promise<HeadlineChoice | undefined> {
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { choice: HeadlineChoice }>();
  pick.title = title;
  pick.placeholder = placeholder;
  pick.items = choices.map((choice) => ({
    label: choice.label,
    description: choice.description,
    choice,
  }));
  pick.activeItems = pick.items.filter((item) => item.choice.current);
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.choice);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
