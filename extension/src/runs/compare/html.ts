/**
 * The Compare webview's page: a strict content security policy (DESIGN.md): nothing by default,
 * styles from the webview's own origin or with the nonce, scripts only with the nonce, and the
 * `csp-nonce` meta the toolkit's adopted style sheets read. Pure, so tests can check the policy.
 */
import { randomBytes } from "node:crypto";

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

export function comparePage(parts: PageParts): string {
  const nonce = parts.nonce ?? newNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(parts.cspSource, nonce)}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${parts.codicons}">
<link rel="stylesheet" nonce="${nonce}" href="${parts.style}">
<title>${escapeHtml(parts.title)}</title>
</head>
<body>
<main id="app" aria-live="polite">Loading runs…</main>
<script type="module" nonce="${nonce}" src="${parts.script}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
