/**
 * The versions one serving worker holds (a "slot" each: an inference thread and its batcher) and
 * the routing table over them. A new table is built with every version loaded first and then
 * swapped in one assignment, so a request sees either the old table or the new one; the slots
 * left out are drained (their queued and running requests finish) before their threads stop.
 */
import type { ModelSignature, ServingOptions } from "../../../schemas/api";
import { LatheError } from "../errors";
import type { Logger } from "../log";
import { Batcher } from "./batcher";
import { InferenceThread } from "./inference";
import type { ServingMetrics } from "./metrics";
import type { SlotConfig } from "./protocol";

export interface Slot {
  version: number;
  modelPath: string;
  signature: ModelSignature;
  batcher: Batcher;
  thread: InferenceThread;
}

interface Route {
  slot: Slot;
  weight: number;
  /** Smooth weighted round robin state (as nginx does): exact shares, evenly interleaved. */
  current: number;
}

export class Slots {
  private routes: Route[] = [];
  private readonly loaded = new Map<number, Slot>();

  constructor(
    private readonly script: string,
    private readonly metrics: ServingMetrics,
    private readonly log: Logger,
    /** Called when an inference thread dies after loading: the worker exits and is restarted. */
    private readonly onThreadExit: (message: string) => void,
  ) {}

  /** The slot for the next request to the deployment's URL. */
  pick(): Slot {
    const total = this.routes.reduce((n, r) => n + r.weight, 0);
    let best: Route | undefined;
    for (const route of this.routes) {
      route.current += route.weight;
      if (!best || route.current > best.current) {
        best = route;
      }
    }
    if (!best) {
      throw new LatheError("LATHE_UNAVAILABLE", "The worker serves no model version yet.");
    }
    best.current -= total;
    return best.slot;
  }

  /** The slot serving `version`, for `/v2/models/{name}/versions/{v}/...`. */
  byVersion(version: number): Slot | undefined {
    return this.routes.find((r) => r.slot.version === version)?.slot;
  }

  /** The version most traffic goes to: whose metadata `/v2/models/{name}` shows. */
  primary(): Slot {
    const top = [...this.routes].sort((a, b) => b.weight - a.weight)[0];
    if (!top) {
      throw new LatheError("LATHE_UNAVAILABLE", "The worker serves no model version yet.");
    }
    return top.slot;
  }

  versions(): number[] {
    return this.routes.map((r) => r.slot.version);
  }

  /**
   * Loads what `configs` needs, then switches to it in one step. On a load failure nothing
   * changes and the error (LATHE_MODEL_LOAD) is thrown; the old table keeps serving.
   */
  async route(configs: SlotConfig[], options: ServingOptions): Promise<void> {
    const fresh: Slot[] = [];
    try {
      for (const config of configs) {
        if (!this.loaded.has(config.version)) {
          fresh.push(await this.load(config, options));
        }
      }
    } catch (err) {
      await Promise.all(fresh.map((slot) => slot.thread.stop()));
      throw err;
    }
    fresh.forEach((slot) => this.loaded.set(slot.version, slot));

    const total = configs.reduce((n, c) => n + c.weight, 0);
    this.routes = configs.map((c) => ({
      slot: this.loaded.get(c.version)!,
      weight: c.weight,
      current: 0,
    }));
    this.loaded.forEach((slot) => slot.batcher.setOptions(options));
    this.metrics.setVersions(
      this.routes.map((r) => ({
        version: r.slot.version,
        percent: total > 0 ? Math.round((r.weight / total) * 1000) / 10 : 0,
        queueDepth: () => r.slot.batcher.depth,
      })),
    );

    const kept = new Set(configs.map((c) => c.version));
    const retired = [...this.loaded.values()].filter((slot) => !kept.has(slot.version));
    retired.forEach((slot) => this.loaded.delete(slot.version));
    void Promise.all(retired.map((slot) => this.retire(slot)));
  }

  /** Waits for every slot's queue to empty, then stops the threads: the worker's shutdown. */
  async stopAll(): Promise<void> {
    const slots = [...this.loaded.values()];
    this.routes = [];
    this.loaded.clear();
    await Promise.all(slots.map((slot) => this.retire(slot)));
  }

  private async load(config: SlotConfig, options: ServingOptions): Promise<Slot> {
    const thread = await InferenceThread.start(this.script, config.modelPath, (message) =>
      this.onThreadExit(`version ${config.version}: ${message}`),
    );
    const batcher = new Batcher(thread, config.signature, options, (rows) =>
      this.metrics.observeBatch(config.version, rows),
    );
    this.log.info({ version: config.version }, "model version loaded");
    return {
      version: config.version,
      modelPath: config.modelPath,
      signature: config.signature,
      batcher,
      thread,
    };
  }

  private async retire(slot: Slot): Promise<void> {
    await slot.batcher.drain();
    await slot.thread.stop();
    this.log.info({ version: slot.version }, "model version drained and unloaded");
  }
}
