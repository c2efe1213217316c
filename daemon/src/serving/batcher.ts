/**
 * Adaptive batching for one model version: requests join a first-in-first-out queue, and whenever
 * the inference thread is free the requests at the head that fit together (same inputs, same
 * row shape, same outputs) are merged along the batch dimension into one session.run, up to
 * `maxBatchRows` rows, or sooner once the oldest has waited `maxDelayMs`. Under load the queue
 * fills while a batch runs, so batches grow with the load and the delay is rarely waited out.
 */
import type { ModelSignature, ServingOptions } from "../../../schemas/api";
import { LatheError } from "../errors";
import type { InferenceThread } from "./inference";
import type { TensorData } from "./protocol";

type Outputs = Record<string, TensorData>;

/**
 * Batches the thread holds at once: one running and one waiting in its message port, so the
 * thread starts the next as soon as one ends instead of idling while the HTTP thread answers
 * the last and sends another (a quarter of its time under load, bench/serving.ts).
 */
const MAX_IN_FLIGHT = 2;

interface Job {
  feeds: Record<string, TensorData>;
  outputs: string[];
  rows: number;
  /** Jobs with the same key can share a session.run. */
  key: string;
  enqueuedAt: number;
  resolve(outputs: Outputs): void;
  reject(err: Error): void;
}

export class Batcher {
  private queue: Job[] = [];
  /** Batches sent to the thread and not answered yet: at most MAX_IN_FLIGHT. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  private canMerge: boolean;
  private nextKey = 0;

  constructor(
    private readonly thread: InferenceThread,
    signature: ModelSignature,
    private options: ServingOptions,
    /** Told the row count of every session.run, for the batch size histogram. */
    private readonly onBatch: (rows: number) => void,
  ) {
    // Merging needs a free batch dimension on every input and output.
    const isFree = (shape: number[]) => shape.length > 0 && shape[0] === -1;
    this.canMerge =
      signature.inputs.every((t) => isFree(t.shape)) &&
      signature.outputs.every((t) => isFree(t.shape));
  }

  get depth(): number {
    return this.queue.length;
  }

  setOptions(options: ServingOptions): void {
    this.options = options;
  }

  /** Queues one request; rejects at once with LATHE_UNAVAILABLE (503) when the queue is full. */
  submit(feeds: Record<string, TensorData>, outputs: string[]): Promise<Outputs> {
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new LatheError(
          "LATHE_UNAVAILABLE",
          `The model is busy (${this.options.maxQueue} requests queued, the deployment's maxQueue); retry shortly.`,
        ),
      );
    }
    const first = Object.values(feeds)[0];
    const rows = this.canMerge && first ? (first.dims[0] ?? 1) : 1;
    const key = this.canMerge ? keyOf(feeds, outputs) : `solo-${this.nextKey++}`;
    return new Promise<Outputs>((resolve, reject) => {
      this.queue.push({
        feeds,
        outputs,
        rows,
        key,
        enqueuedAt: performance.now(),
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Resolves once the queue is empty and no batch runs: the drain before unloading. */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) {
      this.wakeIdle();
      return;
    }
    const head = this.queue[0]!;
    const waited = performance.now() - head.enqueuedAt;
    const isFull = this.fittingRows(head.key) >= this.options.maxBatchRows;
    if (!isFull && waited < this.options.maxDelayMs) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.options.maxDelayMs - waited);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;

    const batch = this.take(head.key);
    this.inFlight++;
    void this.run(batch);
    // With one batch running, the next may already be full or due: send it to wait in the port.
    this.pump();
  }

  /** A batch is answered: the next goes to the thread before this one's answers are written. */
  private release(): void {
    this.inFlight--;
    this.pump();
  }

  private fittingRows(key: string): number {
    let rows = 0;
    for (const job of this.queue) {
      if (job.key === key) {
        rows += job.rows;
        if (rows >= this.options.maxBatchRows) {
          break;
        }
      }
    }
    return rows;
  }

  /** Takes the head and the later jobs that fit with it, keeping the rest in order. */
  private take(key: string): Job[] {
    const batch: Job[] = [];
    const rest: Job[] = [];
    let rows = 0;
    for (const job of this.queue) {
      const fits =
        job.key === key && (batch.length === 0 || rows + job.rows <= this.options.maxBatchRows);
      if (fits) {
        batch.push(job);
        rows += job.rows;
      } else {
        rest.push(job);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Job[]): Promise<void> {
    const rows = batch.reduce((n, job) => n + job.rows, 0);
    this.onBatch(rows);
    let outputs: Outputs;
    try {
      outputs = await this.thread.run(mergeFeeds(batch), batch[0]!.outputs);
    } catch (err) {
      this.release();
      batch.forEach((job) => job.reject(err as Error));
      return;
    }
    if (batch.length > 1 && !splitsByRow(outputs, rows)) {
      // The signature promised a batch dimension the model does not keep: run them one by one.
      this.canMerge = false;
      batch.forEach((job, i) => (job.key = `solo-${this.nextKey++}-${i}`));
      this.queue.unshift(...batch);
      this.release();
      return;
    }
    // Writing a batch's answers takes the HTTP thread a while; the inference thread is not kept
    // waiting for it (under load it was idle a third of the time).
    this.release();
    if (batch.length === 1) {
      batch[0]!.resolve(outputs);
      return;
    }
    let offset = 0;
    for (const job of batch) {
      job.resolve(sliceOutputs(outputs, offset, job.rows));
      offset += job.rows;
    }
  }

  private wakeIdle(): void {
    if (this.inFlight > 0 || this.queue.length > 0) {
      return;
    }
    const waiting = this.idle;
    this.idle = [];
    waiting.forEach((resolve) => resolve());
  }
}

function keyOf(feeds: Record<string, TensorData>, outputs: string[]): string {
  const inputs = Object.entries(feeds)
    .map(([name, t]) => `${name}:${t.type}:${t.dims.slice(1).join("x")}`)
    .sort();
  return `${inputs.join(",")}>${outputs.join(",")}`;
}

function mergeFeeds(batch: Job[]): Record<string, TensorData> {
  if (batch.length === 1) {
    return batch[0]!.feeds;
  }
  const rows = batch.reduce((n, job) => n + job.rows, 0);
  const merged: Record<string, TensorData> = {};
  for (const [name, first] of Object.entries(batch[0]!.feeds)) {
    const parts = batch.map((job) => job.feeds[name]!.data);
    merged[name] = { type: first.type, dims: [rows, ...first.dims.slice(1)], data: concat(parts) };
  }
  return merged;
}

type Data = TensorData["data"];

function concat(parts: Data[]): Data {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const first = parts[0]!;
  if (Array.isArray(first)) {
    return (parts as unknown[][]).flat() as Data;
  }
  const Typed = first.constructor as new (n: number) => Data & { set(a: Data, o: number): void };
  const out = new Typed(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function splitsByRow(outputs: Outputs, rows: number): boolean {
  return Object.values(outputs).every((t) => t.dims[0] === rows);
}

function sliceOutputs(outputs: Outputs, offset: number, rows: number): Outputs {
  const sliced: Outputs = {};
  for (const [name, t] of Object.entries(outputs)) {
    const width = t.dims.slice(1).reduce((a, b) => a * b, 1);
    const data = t.data as Data & { slice(a: number, b: number): Data };
    sliced[name] = {
      type: t.type,
      dims: [rows, ...t.dims.slice(1)],
      data: data.slice(offset * width, (offset + rows) * width),
    };
  }
  return sliced;
}
