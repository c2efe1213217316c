/**
 * The serving worker's handle on one inference thread: loads the model there, then sends one
 * message per batch and matches the answers by id. The batcher in front of it (batcher.ts) bounds
 * the queue and sends one batch at a time.
 */
import { Worker } from "node:worker_threads";
import { LatheError } from "../errors";
import type { InferReply, InferRequest, TensorData } from "./protocol";

interface Pending {
  resolve(outputs: Record<string, TensorData>): void;
  reject(err: Error): void;
}

export class InferenceThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(private readonly thread: Worker) {}

  /** Starts the thread and resolves once its session has loaded the model. */
  static async start(
    script: string,
    modelPath: string,
    onExit: (message: string) => void,
  ): Promise<InferenceThread> {
    const thread = new Worker(script, { workerData: { modelPath } });
    const inference = new InferenceThread(thread);
    let isLoaded = false;
    await new Promise<void>((resolve, reject) => {
      thread.on("message", (reply: InferReply) => {
        if (reply.type === "loaded") {
          isLoaded = true;
          resolve();
        } else if (reply.type === "load-failed") {
          reject(
            new LatheError(
              "LATHE_MODEL_LOAD",
              `onnxruntime could not load the model: ${reply.message}`,
            ),
          );
        } else {
          inference.settle(reply);
        }
      });
      thread.on("error", (err) => reject(err));
      thread.on("exit", (code) => {
        const message = `the inference thread exited with code ${code}`;
        reject(new Error(message));
        inference.failAll(message);
        // Before the load, the rejection above is the whole story: the caller reports it.
        if (isLoaded) {
          onExit(message);
        }
      });
    });
    return inference;
  }

  /** Runs the session on `feeds` in the thread. */
  run(feeds: Record<string, TensorData>, outputs: string[]): Promise<Record<string, TensorData>> {
    const id = this.nextId++;
    const request: InferRequest = { id, feeds, outputs };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage(request);
    });
  }

  async stop(): Promise<void> {
    this.thread.removeAllListeners("exit");
    await this.thread.terminate();
  }

  private settle(reply: InferReply): void {
    if (reply.type !== "result" && reply.type !== "error") {
      return;
    }
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.type === "result") {
      waiting?.resolve(reply.outputs);
    } else {
      waiting?.reject(
        new LatheError("LATHE_BAD_INPUT", `onnxruntime refused the input: ${reply.message}`),
      );
    }
  }

  private failAll(message: string): void {
    for (const waiting of this.pending.values()) {
      waiting.reject(new LatheError("LATHE_UNAVAILABLE", message));
    }
    this.pending.clear();
  }
}
