/** A labelled checkbox; `onChange` gets the new state. Space toggles it from the keyboard. */
import { vsCodeCheckbox } from "@vscode/webview-ui-toolkit/dist/checkbox/index.js";
import { useElements } from "./registry";

export interface CheckboxProps {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}

export function checkbox(props: CheckboxProps): HTMLElement {
  useElements({ "vscode-checkbox": vsCodeCheckbox });
  const node = document.createElement("vscode-checkbox") as HTMLElement & { checked: boolean };
  node.textContent = props.label;
  node.checked = props.checked;
  if (props.checked) {
    node.setAttribute("checked", "");
  }
  node.addEventListener("change", () => props.onChange(node.checked));
  return node;
}
