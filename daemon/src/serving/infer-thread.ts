/**
 * The inference thread of a serving worker (dist/infer-thread.js): one onnxruntime-node
 * InferenceSession, fed by messages from the worker's main thread. `session.run` blocks its
 * thread, so it runs here and the worker's HTTP loop stays responsive; requests queue in the
 * message port and run one at a time.
 */
import * as ort from "onnxruntime-node";
import { parentPort, workerData } from "node:worker_threads";
import type { InferReply, InferRequest, TensorData } from "./protocol";

const port = parentPort!;
const { modelPath } = workerData as { modelPath: string };

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    // One thread per session was fastest for small models on 2 cores (DESIGN.md).
    session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionProviders: ["cpu"],
    });
  } catch (err) {
    send({ type: "load-failed", message: (err as Error).message });
    return;
  }
  port.on("message", (req: InferRequest) => void run(session, req));
  send({ type: "loaded" });
}

async function run(session: ort.InferenceSession, req: InferRequest): Promise<void> {
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(req.feeds)) {
      feeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
    }
    const result = await session.run(feeds, req.outputs);
    const outputs: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(result)) {
      outputs[name] = {
        // Output types follow the signature, which only has types Lathe serves (tensors.ts).
        type: t.type as TensorData["type"],
        dims: [...t.dims],
        data: t.data,
      };
    }
    send({ type: "result", id: req.id, outputs });
  } catch (err) {
    send({ type: "error", id: req.id, message: (err as Error).message });
  }
}

function send(reply: InferReply): void {
  port.postMessage(reply);
}

void main();
