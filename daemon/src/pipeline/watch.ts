/**
 * Watches what a pipeline's state depends on (the pipeline file, lathe.lock, params files, every
 * dep and out) and calls back, debounced, when any of it changes on disk, so the editor can show
 * fresh stage states without polling. The watched set is rebuilt when the pipeline file changes.
 */
import type { FSWatcher } from "chokidar" with { "resolution-mode": "import" };
import { join } from "node:path";
import { LOCK_FILE } from "./lock";
import { DEFAULT_PARAMS_FILE, loadPipeline } from "./parse";
import { stageOutputs } from "./spec";

const PIPELINE_FILES = ["lathe.yaml", "dvc.yaml"];

export interface PipelineWatcher {
  close(): Promise<void>;
}

/** Starts watching `root`; `onChange` gets the first changed workspace path of each burst. */
export async function watchPipeline(
  root: string,
  onChange: (path: string) => void,
  debounceMs = 300,
): Promise<PipelineWatcher> {
  // chokidar 5 is an ES module; the daemon is bundled as CommonJS, so it is imported dynamically.
  const { watch } = await import("chokidar");
  let watched = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let first: string | undefined;
  const watcher: FSWatcher = watch([], { ignoreInitial: true, cwd: root, depth: 99 });

  const update = () => {
    const next = new Set(watchedPaths(root));
    const added = [...next].filter((p) => !watched.has(p));
    const removed = [...watched].filter((p) => !next.has(p));
    watcher.add(added.map((p) => join(root, p)));
    watcher.unwatch(removed.map((p) => join(root, p)));
    watched = next;
  };
  const changed = (path: string) => {
    if (PIPELINE_FILES.includes(path)) {
      update();
    }
    first ??= path;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const path = first!;
      first = undefined;
      onChange(path);
    }, debounceMs);
  };
  watcher.on("all", (_event, path) => changed(path.replace(/\\/g, "/")));
  update();
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** Workspace-relative paths to watch; a pipeline that does not load gives its files only. */
function watchedPaths(root: string): string[] {
  const paths = [...PIPELINE_FILES, LOCK_FILE, DEFAULT_PARAMS_FILE];
  try {
    const pipeline = loadPipeline(root);
    for (const stage of pipeline.stages) {
      paths.push(...stage.params.map((p) => p.file));
      paths.push(...[...stage.deps, ...stageOutputs(stage)].map((d) => d.wsPath));
    }
  } catch {
    // A half-written lathe.yaml: its own change rebuilds the set once it loads.
  }
  return [...new Set(paths)].filter((p) => p !== "." && !p.startsWith(".lathe"));
}
