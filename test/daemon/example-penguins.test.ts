/**
 * examples/penguins-python (#3): `lathe repro` (the CLI, as a child process) runs the Python
 * stages with Debian's python3-sklearn/numpy/onnx/yaml with no daemon running, as in CI: the CLI
 * serves the API its training stage logs to through the stdlib client and MLflow's REST API. A
 * daemon started afterwards reads the result. Checks the runs, params from all three sources, the
 * metric curves, the artifact, and that the ONNX model loads and scores in onnxruntime-node as
 * evaluate.py scored it. Nothing is skipped: .ci/run installs the packages.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { after, before, test } from "node:test";
import * as ort from "onnxruntime-node";
import type { MetricHistory, ReproResult, RunDetail, RunSummary } from "../../schemas/api";
import { daemonIn, removeDir, repoRoot, runCli, tempDir } from "../helpers";

const exampleDir = join(repoRoot, "examples", "penguins-python");
// Debian's python3 first: a python3 of pyenv or a venv earlier on PATH lacks Debian's packages.
const PATH = ["/usr/bin", process.env.PATH ?? ""].join(":");
const LABELS = ["Adelie", "Chinstrap", "Gentoo"];

let dir = "";
let daemon: Awaited<ReturnType<typeof daemonIn>>;
let result: ReproResult;
const runs: Record<string, RunDetail> = {};

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${daemon.url}${path}`, {
    headers: { Authorization: `Bearer ${daemon.info.token}` },
  });
  assert.equal(res.status, 200, path);
  return (await res.json()) as T;
}

const history = (runId: string, key: string) =>
  api<MetricHistory>(`/api/v1/runs/${runId}/metrics/history?key=${key}`);

before(async () => {
  try {
    execFileSync("python3", ["-c", "import sklearn, numpy, onnx, yaml"], { env: { PATH } });
  } catch {
    assert.fail(
      "python3 lacks sklearn, numpy, onnx or yaml: apt-get install python3-sklearn python3-numpy python3-onnx python3-yaml",
    );
  }
  dir = await tempDir("lathe-penguins-");
  const ignored = ["data/prepared", "models", "metrics", ".lathe", "src/__pycache__"];
  cpSync(exampleDir, dir, {
    recursive: true,
    filter: (src) =>
      !ignored.some((p) => relative(exampleDir, src).startsWith(p.split("/").join(sep))),
  });
  const repro = await runCli(["--json", "repro"], { cwd: dir, env: { PATH }, timeoutMs: 300_000 });
  assert.equal(repro.code, 0, repro.stderr);
  daemon = await daemonIn(dir);
  result = JSON.parse(repro.stdout) as ReproResult;
  for (const stage of result.stages) {
    runs[stage.stage] = await api<RunDetail>(`/api/v1/runs/${stage.runId}`);
  }
});

after(async () => {
  await daemon?.close();
  if (dir) {
    await removeDir(dir);
  }
});

test("lathe repro runs prepare, train and evaluate as finished runs of experiment penguins", async () => {
  assert.deepEqual(
    result.stages.map((s) => [s.stage, s.status]),
    [
      ["prepare", "ran"],
      ["train", "ran"],
      ["evaluate", "ran"],
    ],
  );
  for (const run of Object.values(runs)) {
    assert.equal(run.status, "FINISHED", run.name);
    assert.equal(run.experimentName, "penguins");
  }
  const listed = await api<RunSummary[]>(`/api/v1/runs?experiment=${runs.train!.experimentId}`);
  assert.equal(listed.filter((r) => r.stage !== null).length, 3);
  const inputs = runs.train!.inputs.map((i) => i.path);
  assert.ok(inputs.includes("data/prepared"), inputs.join(","));
  assert.ok(
    runs.train!.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.oid)),
    "deps' data ids",
  );
});

test("the train run has params from params.yaml, the stdlib client and MLflow's REST API", () => {
  const params = runs.train!.params;
  assert.equal(params["train.epochs"], "40");
  assert.equal(params["train.alpha"], "0.001");
  assert.equal(params.model, "SGDClassifier(log_loss, one-vs-rest)");
  assert.equal(params.features, "beak_length_mm,beak_depth_mm,flipper_length_mm,body_mass_g");
  assert.equal(params.classes, LABELS.join(","));
  assert.match(params.sklearn_version ?? "", /^\d+\.\d+/);
  const tags = runs.train!.tags;
  assert.equal(tags.dataset, "palmer-penguins");
  assert.equal(tags.framework, "scikit-learn");
  assert.equal(tags["mlflow.source.name"], "src/train.py");
  assert.ok((runs.train!.metrics.train_seconds?.value ?? 0) > 0, "MLflow log-batch metric");
});

test("loss and accuracy curves come from the plots CSV, val_* curves from the client", async () => {
  const steps = Array.from({ length: 40 }, (_, i) => i + 1);
  const csv = readFileSync(join(dir, "metrics", "train_history.csv"), "utf8")
    .trim()
    .split("\n");
  for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) {
    const h = await history(runs.train!.id, key);
    assert.deepEqual(
      h.points.map((p) => p.step),
      steps,
      key,
    );
    assert.ok(
      h.points.every((p) => typeof p.value === "number" && p.value >= 0),
      key,
    );
  }
  const loss = await history(runs.train!.id, "loss");
  assert.equal(loss.points[0]!.value, Number(csv[1]!.split(",")[1]));
  assert.ok(loss.points.at(-1)!.value! < loss.points[0]!.value / 2, "loss falls");
  assert.ok((runs.train!.metrics.val_accuracy?.value ?? 0) > 0.9);
});

test("the ONNX artifact loads in onnxruntime-node and scores the test split as evaluate.py did", async () => {
  assert.deepEqual(
    runs.train!.artifacts.map((a) => a.path),
    ["penguins.onnx"],
  );
  const res = await fetch(`${daemon.url}/api/v1/runs/${runs.train!.id}/artifacts/penguins.onnx`, {
    headers: { Authorization: `Bearer ${daemon.info.token}` },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.ok(bytes.equals(readFileSync(join(dir, "models", "penguins.onnx"))));

  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ["features"]);
  assert.deepEqual(session.outputNames, ["probabilities", "label"]);
  const rows = readFileSync(join(dir, "data", "prepared", "test.csv"), "utf8")
    .trim()
    .split("\n");
  const cells = rows.slice(1).map((r) => r.split(","));
  const features = Float32Array.from(cells.flatMap((c) => c.slice(1).map(Number)));
  const out = await session.run({
    features: new ort.Tensor("float32", features, [cells.length, 4]),
  });
  const labels = Array.from(out.label!.data as BigInt64Array, (i) => LABELS[Number(i)]);
  const correct = labels.filter((l, i) => l === cells[i]![0]).length;
  const probabilities = out.probabilities!.data as Float32Array;
  for (let i = 0; i < cells.length; i++) {
    const sum = probabilities[i * 3]! + probabilities[i * 3 + 1]! + probabilities[i * 3 + 2]!;
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
  }
  const evaluated = runs.evaluate!.metrics;
  assert.equal(Math.round((correct / cells.length) * 1e6) / 1e6, evaluated.accuracy?.value);
  assert.ok((evaluated.accuracy?.value ?? 0) > (evaluated.baseline_accuracy?.value ?? 1) + 0.3);
});
