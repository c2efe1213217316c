/** A button in the editor's style (primary, secondary or icon). */
import { vsCodeButton } from "@vscode/webview-ui-toolkit/dist/button/index.js";
import { useElements } from "./registry";

export interface ButtonProps {
  label: string;
  /** A tooltip; also the accessible name of an icon button. */
  title?: string;
  appearance?: "primary" | "secondary" | "icon";
  /** A codicon name for icon buttons (needs codicon.css in the page), e.g. "refresh". */
  icon?: string;
  onClick: () => void;
}

export function button(props: ButtonProps): HTMLElement {
  useElements({ "vscode-button": vsCodeButton });
  const node = document.createElement("vscode-button");
  node.setAttribute("appearance", props.appearance ?? "secondary");
  if (props.title) {
    node.title = props.title;
    node.setAttribute("aria-label", props.title);
  }
  if (props.icon) {
    const icon = document.createElement("span");
    icon.className = `codicon codicon-${props.icon}`;
    node.append(icon);
    if (props.appearance !== "icon") {
      node.append(` ${props.label}`);
    }
  } else {
    node.textContent = props.label;
  }
  node.addEventListener("click", () => props.onClick());
  return node;
}
