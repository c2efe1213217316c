/** A labelled multi-line text box (the Try it panel's JSON editor); `value()` reads it back. */
import { vsCodeTextArea } from "@vscode/webview-ui-toolkit/dist/text-area/index.js";
import { el, useElements } from "./registry";

export interface TextAreaProps {
  label: string;
  value: string;
  rows?: number;
  /** Use the editor's monospace font (for code and JSON). */
  isCode?: boolean;
}

export interface TextAreaHandle {
  node: HTMLElement;
  value(): string;
  setValue(text: string): void;
  focus(): void;
}

export function textArea(props: TextAreaProps): TextAreaHandle {
  useElements({ "vscode-text-area": vsCodeTextArea });
  const area = document.createElement("vscode-text-area") as HTMLElement & { value: string };
  area.setAttribute("rows", String(props.rows ?? 12));
  area.setAttribute("resize", "vertical");
  area.setAttribute("aria-label", props.label);
  area.textContent = props.label;
  area.value = props.value;
  if (props.isCode) {
    area.classList.add("lathe-code");
  }
  return {
    node: el("div", { className: "lathe-field lathe-text-area" }, area),
    value: () => area.value,
    setValue: (text) => (area.value = text),
    focus: () => area.focus(),
  };
}
