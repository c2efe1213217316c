/**
 * "Lathe: Register Model…": registers a run's .onnx output as a new model version. From a run in
 * the Runs view, or from the palette with a pick of the runs that produced a model.
 */
import { basename } from "node:path";
import * as vscode from "vscode";
import type { ModelVersion, RunDetail, RunSummary } from "../../../schemas/api";
import type { DaemonConnection } from "../daemon/connection";
import { headline, shortId } from "../runs/format";
import { listRuns } from "../runs/runLog";
import type { RunsNode } from "../runs/runsTree";
import { log } from "../vscode/log";
import { readSettings } from "../vscode/settings";

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** How many recent runs the palette pick looks at for model outputs. */
const PICK_LIMIT = 30;

interface Candidate {
  run: RunDetail;
  path: string;
}

/** Returns the registered version, or undefined when the user cancelled. */
export async function registerModel(
  daemon: DaemonConnection,
  node?: RunsNode,
): Promise<ModelVersion | undefined> {
  const candidate =
    node && node.kind === "run" ? await fromRunNode(daemon, node) : await pickCandidate(daemon);
  if (!candidate) {
    return undefined;
  }
  const name = await vscode.window.showInputBox({
    title: `Register ${candidate.path} from run ${shortId(candidate.run.id)}`,
    prompt: "Name of the registered model",
    value: `${basename(daemon.root)}-model`,
    validateInput: (value) =>
      MODEL_NAME.test(value)
        ? undefined
        : "Use letters, digits, '.', '_' or '-', starting with a letter or digit.",
  });
  if (!name) {
    return undefined;
  }
  // FIXME(#5): offer an optional description and tags here, as `lathe models register
  // --description --tag` and the route take them; until then, `lathe models annotate` sets them.
  const version = await daemon.call<ModelVersion>(
    "POST",
    `/api/v1/models/${encodeURIComponent(name)}/versions`,
    {
      runId: candidate.run.id,
      path: candidate.path,
    },
  );
  log.info(
    `Registered ${name} v${version.version} from run ${candidate.run.id} (${candidate.path})`,
  );
  void vscode.window
    .showInformationMessage(`Registered ${name} v${version.version}`, "Deploy")
    .then((choice) =>
      choice === "Deploy"
        ? vscode.commands.executeCommand("lathe.deploy", { model: name, version: version.version })
        : undefined,
    );
  return version;
}

/**
 * The run itself when it wrote an .onnx file; otherwise a run of the same repro that did (the
 * evaluate stage shows the accuracy, the train stage wrote the model).
 */
async function fromRunNode(
  daemon: DaemonConnection,
  node: Extract<RunsNode, { kind: "run" }>,
): Promise<Candidate | undefined> {
  const own = onnxOutput(await detail(daemon, node.run.id));
  if (own) {
    return own;
  }
  const siblings = node.children.length > 0 ? node.children : await siblingsOf(daemon, node.run);
  const details = await Promise.all(siblings.map((r) => detail(daemon, r.id)));
  const found = details.map(onnxOutput).filter((c): c is Candidate => c !== undefined);
  if (found.length === 1) {
    log.info(
      `Run ${node.run.id} wrote no .onnx file; registering ${found[0]!.path} from run ${found[0]!.run.id}.`,
    );
    return found[0];
  }
  if (found.length > 1) {
    return choose(found);
  }
  void vscode.window.showWarningMessage(
    `Run '${node.run.name}' and its pipeline run wrote no .onnx model.`,
  );
  return undefined;
}

async function pickCandidate(daemon: DaemonConnection): Promise<Candidate | undefined> {
  const runs = (await listRuns(daemon)).filter((r) => r.status === "FINISHED").slice(0, PICK_LIMIT);
  const details = await Promise.all(runs.map((r) => detail(daemon, r.id)));
  const found = details.map(onnxOutput).filter((c): c is Candidate => c !== undefined);
  if (found.length === 0) {
    void vscode.window.showWarningMessage(
      "No finished run wrote an .onnx model yet. Run 'Lathe: Reproduce Pipeline' first.",
    );
    return undefined;
  }
  return choose(found);
}

async function choose(candidates: Candidate[]): Promise<Candidate | undefined> {
  const { headlineMetric } = readSettings();
  const picked = await vscode.window.showQuickPick(
    candidates.map((c) => {
      const metric = headline(c.run.metrics, headlineMetric);
      return {
        label: `${c.run.name} ${shortId(c.run.id)}`,
        description: [
          metric ? `${metric[0]} ${metric[1]}` : undefined,
          new Date(c.run.startTime).toLocaleString(),
        ]
          .filter(Boolean)
          .join(" · "),
        detail: c.path,
        candidate: c,
      };
    }),
    { title: "Register Model", placeHolder: "Pick the run whose model to register" },
  );
  return picked?.candidate;
}

async function siblingsOf(daemon: DaemonConnection, run: RunSummary): Promise<RunSummary[]> {
  if (!run.parentId) {
    return [];
  }
  const runs = await daemon.call<RunSummary[]>(
    "GET",
    `/api/v1/runs?experiment=${encodeURIComponent(run.experimentId)}`,
  );
  return runs.filter((r) => r.parentId === run.parentId && r.id !== run.id);
}

function detail(daemon: DaemonConnection, runId: string): Promise<RunDetail> {
  return daemon.call<RunDetail>("GET", `/api/v1/runs/${encodeURIComponent(runId)}`);
}

function onnxOutput(run: RunDetail): Candidate | undefined {
  const output = run.outputs.find((o) => o.path.toLowerCase().endsWith(".onnx"));
  return output ? { run, path: output.path } : undefined;
}
