/**
 * Open Inference Protocol v2 model routes: `/v2/models/{name}[/versions/{v}]` metadata, `/ready`
 * and `/infer`. Without a version an infer follows the traffic split; with one it goes to that
 * version, which must be one the deployment serves.
 */
import type { IncomingMessage } from "node:http";
import { LatheError } from "../errors";
import { parseJsonBody, readBody, requireMediaType } from "./body";
import type { Answer, ServingDeps } from "./server";
import { allow, servedBy } from "./server";
import type { Slot } from "./slots";
import { parseInferRequest, toOipTensor } from "./tensors";

export const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

export async function answerModelPath(
  deps: ServingDeps,
  req: IncomingMessage,
  method: string,
  match: RegExpExecArray,
): Promise<Answer> {
  const path = match[0];
  const name = decodeSegment(match[1]!);
  if (name !== deps.config.model) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `This server serves model '${deps.config.model}', not '${name}'.`,
    );
  }
  const version = match[2];
  switch (match[3]) {
    case "/infer": {
      allow(method, "POST", path);
      requireMediaType(req, ["application/json"]);
      const body = parseJsonBody(await readBody(req));
      return infer(deps, version === undefined ? deps.slots.pick() : slotFor(deps, version), body);
    }
    case "/ready":
      allow(method, "GET", path);
      return {
        body: { name, ready: version === undefined ? true : Boolean(slotFor(deps, version)) },
      };
    default: {
      allow(method, "GET", path);
      const slot = version === undefined ? deps.slots.primary() : slotFor(deps, version);
      return {
        body: {
          name,
          versions: deps.slots.versions().map(String),
          platform: "onnxruntime",
          inputs: slot.signature.inputs,
          outputs: slot.signature.outputs,
        },
      };
    }
  }
}

function infer(deps: ServingDeps, slot: Slot, body: unknown): Promise<Answer> {
  return servedBy(slot.version, async () => {
    const request = parseInferRequest(body, slot.signature);
    const outputs = await slot.batcher.submit(request.feeds, request.outputs);
    return {
      body: {
        model_name: deps.config.model,
        model_version: String(slot.version),
        ...(request.id !== undefined ? { id: request.id } : {}),
        outputs: request.outputs.map((name) => toOipTensor(name, outputs[name]!)),
      },
      version: slot.version,
    };
  });
}

function slotFor(deps: ServingDeps, version: string): Slot {
  const slot = /^[1-9][0-9]*$/.test(version) ? deps.slots.byVersion(Number(version)) : undefined;
  if (!slot) {
    throw new LatheError(
      "LATHE_NOT_FOUND",
      `This server serves version ${deps.slots.versions().join(" and ")} of '${deps.config.model}', not version ${version}.`,
    );
  }
  return slot;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new LatheError("LATHE_NOT_FOUND", `'${segment}' is not a model name.`);
  }
}
