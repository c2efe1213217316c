/** The Compare webview's page, on the shared strict-CSP page of every Lathe webview. */
import { webviewPage } from "../../vscode/webviewPage";

export { contentSecurityPolicy } from "../../vscode/webviewPage";

export interface PageParts {
  /** `webview.cspSource`. */
  cspSource: string;
  /** `asWebviewUri` of dist/webview/compare.js and compare.css, and of codicon.css. */
  script: string;
  style: string;
  codicons: string;
  nonce?: string;
  title: string;
}

export function comparePage(parts: PageParts): string {
  return webviewPage({
    cspSource: parts.cspSource,
    script: parts.script,
    styles: [parts.codicons, parts.style],
    title: parts.title,
    loading: "Loading runs…",
    nonce: parts.nonce,
  });
}
