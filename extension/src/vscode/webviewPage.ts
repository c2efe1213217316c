/**
 * The page every Lathe webview loads: a strict content security policy (DESIGN.md): nothing by
 * default, styles from the webview's own origin or with the nonce, scripts only with the nonce,
 * and the `csp-nonce` meta the toolkit's adopted style sheets read. Pure, so tests can check it.
 */
import { randomBytes } from "node:crypto";

export interface WebviewPageParts {
  /** `webview.cspSource`. */
  cspSource: string;
  /** `asWebviewUri` of the app's script, and of its style sheets in order. */
  script: string;
  styles: string[];
  title: string;
  /** What the page says until its script has drawn it. */
  loading: string;
  nonce?: string;
}

export function newNonce(): string {
  return randomBytes(18).toString("base64url");
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
}

export function webviewPage(parts: WebviewPageParts): string {
  const nonce = parts.nonce ?? newNonce();
  const styles = parts.styles
    .map((href) => `<link rel="stylesheet" nonce="${nonce}" href="${href}">`)
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(parts.cspSource, nonce)}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${escapeHtml(parts.title)}</title>
</head>
<body>
<main id="app" aria-live="polite">${escapeHtml(parts.loading)}</main>
<script type="module" nonce="${nonce}" src="${parts.script}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
