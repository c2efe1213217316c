/**
 * What "Try it" prefills and how it sends (#5): one example request per protocol, built from the
 * model's signature (one row of zeros, or of the feature names for tabular models), and a plain
 * HTTP call from the extension host with the daemon's token. No vscode import: unit-testable.
 */
import { request } from "node:http";
import type { ModelSignature, ModelSignatureTensor } from "../../../schemas/api";
import type { TryItEndpoint } from "../../../schemas/tryit";

/** The endpoints a deployment of `model` answers, each with an example body for `signature`. */
export function tryItEndpoints(model: string, signature: ModelSignature): TryItEndpoint[] {
  const json = (value: unknown) => compactJson(JSON.stringify(value, null, 2));
  const endpoints: TryItEndpoint[] = [
    {
      id: "infer",
      label: "Open Inference Protocol v2 (infer)",
      method: "POST",
      path: `/v2/models/${encodeURIComponent(model)}/infer`,
      contentType: "application/json",
      example: json({ id: "try-1", inputs: signature.inputs.map(exampleTensor) }),
    },
  ];
  const features = tabularFeatures(signature);
  if (features) {
    const record = Object.fromEntries(features.map((f) => [f, 0]));
    endpoints.push(
      {
        id: "predict",
        label: "Lathe /predict (records)",
        method: "POST",
        path: "/predict",
        contentType: "application/json",
        example: json({ records: [record] }),
      },
      {
        id: "invocations",
        label: "MLflow /invocations (dataframe_split)",
        method: "POST",
        path: "/invocations",
        contentType: "application/json",
        example: json({ dataframe_split: { columns: features, data: [features.map(() => 0)] } }),
      },
    );
  } else {
    const inputs = Object.fromEntries(signature.inputs.map((t) => [t.name, nested(t)]));
    endpoints.push({
      id: "invocations",
      label: "MLflow /invocations (inputs)",
      method: "POST",
      path: "/invocations",
      contentType: "application/json",
      example: json({ inputs }),
    });
  }
  return endpoints;
}

function tabularFeatures(signature: ModelSignature): string[] | undefined {
  const input = signature.inputs[0];
  const isTabular =
    signature.inputs.length === 1 && input?.datatype === "FP32" && input.shape.length === 2;
  return isTabular ? signature.features : undefined;
}

function exampleTensor(t: ModelSignatureTensor): Record<string, unknown> {
  const shape = t.shape.map((d) => (d < 0 ? 1 : d));
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    name: t.name,
    shape,
    datatype: t.datatype,
    data: Array.from({ length: size }, () => zero(t)),
  };
}

function nested(t: ModelSignatureTensor): unknown {
  const shape = t.shape.map((d) => (d < 0 ? 1 : d));
  const build = (dims: number[]): unknown =>
    dims.length === 0 ? zero(t) : Array.from({ length: dims[0]! }, () => build(dims.slice(1)));
  return build(shape);
}

function zero(t: ModelSignatureTensor): unknown {
  return t.datatype === "BOOL" ? false : t.datatype === "BYTES" ? "" : 0;
}

export interface TryItAnswer {
  status: number;
  ms: number;
  body: string;
}

/** Sends `body` to `url + path` with the token; any HTTP status is an answer, not an error. */
export function sendTryIt(
  url: string,
  token: string,
  endpoint: TryItEndpoint,
  body: string,
  timeoutMs = 30_000,
): Promise<TryItAnswer> {
  const target = new URL(endpoint.path, url);
  const payload = Buffer.from(body, "utf8");
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: endpoint.method,
        timeout: timeoutMs,
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": endpoint.contentType,
          "Content-Length": payload.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: Date.now() - started,
            body: prettyJson(Buffer.concat(chunks).toString("utf8")),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => reject(new Error(`Cannot reach ${target.origin}: ${err.message}`)));
    req.end(payload);
  });
}

/** Indented JSON with arrays of plain values kept on one line: `"shape": [1, 4]`. */
export function compactJson(indented: string): string {
  return indented.replace(
    /\[\s+([^[\]{}]*?)\s+\]/g,
    (_, items: string) => `[${items.split(/,\n\s*/).join(", ")}]`,
  );
}

function prettyJson(text: string): string {
  try {
    return compactJson(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    return text; // Not JSON (a proxy's page, say): show it as it came.
  }
}
