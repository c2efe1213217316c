/**
 * The Try it webview (#5): sends `ready`, then shows the endpoints the host posts
 * (schemas/tryit.ts), an editable JSON request prefilled from the model's signature, Send
 * (also Ctrl/Cmd+Enter) and the answer with its status and time.
 */
import "../components/components.css";
import "./tryit.css";
import type { TryItEndpoint, TryItHostMessage, TryItWebviewMessage } from "../../../schemas/tryit";
import { button, dropdown, el, textArea, type TextAreaHandle } from "../components";

declare function acquireVsCodeApi(): { postMessage(message: TryItWebviewMessage): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById("app")!;
let endpoints: TryItEndpoint[] = [];
let chosen: TryItEndpoint | undefined;
let editor: TextAreaHandle | undefined;
let pending = 0;
const status = el("p", { className: "tryit-status", role: "status" });
const answer = el("pre", { className: "tryit-response", id: "tryit-response" });

window.addEventListener("message", (event: MessageEvent<TryItHostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      endpoints = message.endpoints;
      render(message.title, message.url);
      return;
    case "response":
      if (message.requestId === pending) {
        const verdict = message.status < 400 ? "ok" : "error";
        status.textContent = `HTTP ${message.status} · ${message.ms} ms`;
        status.dataset.verdict = verdict;
        answer.textContent = message.body;
      }
      return;
    case "failed":
      if (message.requestId === pending) {
        status.textContent = message.message;
        status.dataset.verdict = "error";
        answer.textContent = "";
      }
      return;
  }
});
vscode.postMessage({ type: "ready" });

function render(title: string, url: string): void {
  chosen = endpoints[0];
  editor = textArea({
    label: "Request body (JSON)",
    value: chosen?.example ?? "",
    rows: 14,
    isCode: true,
  });
  const path = el("code", { className: "tryit-path" }, pathOf(url));
  const picker = dropdown({
    label: "Endpoint",
    options: endpoints.map((e) => ({ value: e.id, label: e.label })),
    value: chosen?.id ?? "",
    onChange: (id) => {
      chosen = endpoints.find((e) => e.id === id);
      editor?.setValue(chosen?.example ?? "");
      path.textContent = pathOf(url);
    },
  });
  const send = button({
    label: "Send",
    appearance: "primary",
    icon: "send",
    title: "Send (Ctrl+Enter)",
    onClick: sendRequest,
  });
  send.id = "tryit-send";
  app.replaceChildren(
    el("h1", {}, `Try ${title}`),
    el("div", { className: "tryit-bar" }, picker, path),
    editor.node,
    el("div", { className: "tryit-bar" }, send, status),
    el("h2", {}, "Response"),
    answer,
  );
  app.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      sendRequest();
    }
  });
  editor.focus();
}

function sendRequest(): void {
  if (!chosen || !editor) {
    return;
  }
  pending++;
  status.textContent = "Sending…";
  delete status.dataset.verdict;
  vscode.postMessage({
    type: "send",
    requestId: pending,
    endpoint: chosen.id,
    body: editor.value(),
  });
}

function pathOf(url: string): string {
  return chosen ? `${chosen.method} ${url}${chosen.path}` : url;
}
