/**
 * The "Try it" webview's message contract (#5), imported by the extension host
 * (extension/src/models/tryIt.ts) and the webview (webview/src/tryit/). The webview speaks first
 * (`ready`); the host answers with `init`, then one `response` per `send`. The webview never
 * reaches the model server itself: the host sends the request with the token.
 */

/** One endpoint the panel can call, with a request body prefilled from the model's signature. */
export interface TryItEndpoint {
  id: string;
  label: string;
  method: "POST";
  path: string;
  contentType: string;
  example: string;
}

export type TryItHostMessage =
  | { type: "init"; title: string; url: string; endpoints: TryItEndpoint[] }
  | {
      type: "response";
      requestId: number;
      status: number;
      ms: number;
      body: string;
    }
  | { type: "failed"; requestId: number; message: string };

export type TryItWebviewMessage =
  { type: "ready" } | { type: "send"; requestId: number; endpoint: string; body: string };

/** Checks a message from the webview before the host acts on it. */
export function isTryItWebviewMessage(value: unknown): value is TryItWebviewMessage {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case "ready":
      return true;
    case "send":
      return (
        Number.isSafeInteger(m.requestId) &&
        typeof m.endpoint === "string" &&
        typeof m.body === "string"
      );
    default:
      return false;
  }
}
