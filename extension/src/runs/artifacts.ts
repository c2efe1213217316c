/**
 * A run's artifacts: files logged through the MLflow artifact API, listed folder by folder, and
 * a stage run's outputs (content ids in the store). "Open Artifact" copies the run's version of
 * the file to a temporary folder and opens it, so what opens is what the run produced.
 */
import { existsSync, statSync } from "node:fs";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as vscode from "vscode";
import type { RunSummary } from "../../../schemas/api";
import { resolveInside } from "../../../daemon/src/workspace";
import { LatheError } from "../../../daemon/src/errors";
import type { DaemonConnection } from "../daemon/connection";
import type { RunsNode } from "./runNodes";

interface ArtifactList {
  files?: { path: string; is_dir: boolean; file_size?: number }[];
}

/** The logged artifacts directly inside folder `dir` of the run ("" for the top). */
export async function listArtifacts(
  daemon: DaemonConnection,
  run: RunSummary,
  dir: string,
): Promise<RunsNode[]> {
  const query = new URLSearchParams({ run_id: run.id, ...(dir ? { path: dir } : {}) });
  const list = await daemon.call<ArtifactList>(
    "GET",
    `/api/2.0/mlflow/artifacts/list?${query.toString()}`,
  );
  return (list.files ?? [])
    .sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path))
    .map((f) => ({
      kind: "artifact",
      run,
      path: dir ? `${dir}/${f.path}` : f.path,
      isDir: f.is_dir,
      oid: null,
    }));
}

export async function openArtifact(
  daemon: DaemonConnection,
  root: string,
  node: RunsNode | undefined,
): Promise<void> {
  if (node?.kind !== "artifact" || node.isDir) {
    void vscode.window.showInformationMessage(
      "Pick a file under a run's Artifacts in the Runs view to open it.",
    );
    return;
  }
  const target = resolveInside(
    join(tmpdir(), "lathe-artifacts", node.run.id),
    node.path,
    "artifact path",
  );
  await mkdir(dirname(target), { recursive: true });
  if (node.oid) {
    const object = join(
      root,
      ".lathe",
      "cache",
      "objects",
      node.oid.slice(0, 2),
      node.oid.slice(2),
    );
    const inWorkspace = resolveInside(root, node.path, "output path");
    if (existsSync(inWorkspace) && statSync(inWorkspace).isDirectory()) {
      await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(inWorkspace));
      return;
    }
    if (!existsSync(object)) {
      throw new LatheError(
        "LATHE_NOT_FOUND",
        `The store no longer holds ${node.path} of this run (${node.oid.slice(0, 7)}); it may have been garbage-collected.`,
      );
    }
    await copyFile(object, target);
  } else {
    await writeFile(target, await download(daemon, node.run, node.path));
  }
  await vscode.commands.executeCommand("vscode.open", vscode.Uri.file(target), { preview: true });
}

/** The artifact's bytes from the daemon's MLflow artifact route (binary, so not `call`). */
async function download(daemon: DaemonConnection, run: RunSummary, path: string): Promise<Buffer> {
  const state = daemon.state;
  if (state.kind !== "up") {
    throw new LatheError(
      "LATHE_UNAVAILABLE",
      "Lathe's local service is not running; see the Lathe log.",
    );
  }
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  const url = `http://127.0.0.1:${state.info.port}/api/2.0/mlflow-artifacts/artifacts/${encodeURIComponent(run.experimentId)}/${encodeURIComponent(run.id)}/artifacts/${encoded}`;
  const res = await fetch(url, { headers: { Authorization: `Bearer ${state.info.token}` } });
  if (!res.ok) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `Could not download ${path} of run ${run.id}: HTTP ${res.status} ${await res.text()}`,
    );
  }
  return Buffer.from(await res.arrayBuffer());
}
