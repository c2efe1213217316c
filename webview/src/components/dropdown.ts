/** A labelled single choice; `onChange` gets the chosen value. */
import { vsCodeDropdown } from "@vscode/webview-ui-toolkit/dist/dropdown/index.js";
import { vsCodeOption } from "@vscode/webview-ui-toolkit/dist/option/index.js";
import { el, useElements } from "./registry";

export interface DropdownProps<V extends string> {
  label: string;
  options: { value: V; label: string }[];
  value: V;
  onChange: (value: V) => void;
}

export function dropdown<V extends string>(props: DropdownProps<V>): HTMLElement {
  useElements({ "vscode-dropdown": vsCodeDropdown, "vscode-option": vsCodeOption });
  const select = document.createElement("vscode-dropdown") as HTMLElement & { value: string };
  select.setAttribute("aria-label", props.label);
  for (const option of props.options) {
    const node = document.createElement("vscode-option") as HTMLElement & { value: string };
    node.setAttribute("value", option.value);
    node.textContent = option.label;
    if (option.value === props.value) {
      node.setAttribute("selected", "");
    }
    select.append(node);
  }
  select.addEventListener("change", () => {
    const chosen = props.options.find((o) => o.value === select.value);
    if (chosen) {
      props.onChange(chosen.value);
    }
  });
  return el("label", { className: "lathe-field" }, el("span", {}, props.label), select);
}
