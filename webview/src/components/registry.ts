/**
 * The one place that knows Lathe's components are @vscode/webview-ui-toolkit elements underneath.
 * Each component registers only the toolkit element it uses, once, on first use; moving to
 * @vscode-elements/elements means changing this folder only.
 */
import { provideVSCodeDesignSystem } from "@vscode/webview-ui-toolkit/dist/vscode-design-system.js";

/** A toolkit element definition, as `vsCodeButton()` returns it (the toolkit types it loosely). */
type Definition = object;

const registered = new Set<string>();

/** Registers toolkit elements by name, each at most once per page. */
export function useElements(entries: Record<string, () => Definition>): void {
  const fresh = Object.entries(entries).filter(([name]) => !registered.has(name));
  if (fresh.length === 0) {
    return;
  }
  const definitions: Definition[] = fresh.map(([, make]) => make());
  provideVSCodeDesignSystem().register(...definitions);
  for (const [name] of fresh) {
    registered.add(name);
  }
}

/** `el("div", { className: "x" }, child, "text")`: an element with properties and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Pick<HTMLElement, "className" | "title" | "id" | "role">> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}
