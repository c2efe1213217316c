/**
 * Colours for canvas and SVG drawing, read from the editor theme's CSS variables (a canvas cannot
 * use `var(--…)` itself). Read again whenever the theme changes (`onThemeChange`).
 */
const PALETTE = [
  "--vscode-charts-blue",
  "--vscode-charts-orange",
  "--vscode-charts-green",
  "--vscode-charts-red",
  "--vscode-charts-purple",
  "--vscode-charts-yellow",
  "--vscode-terminal-ansiCyan",
  "--vscode-terminal-ansiMagenta",
];
const FALLBACK = [
  "#3794ff",
  "#d18616",
  "#89d185",
  "#f14c4c",
  "#b180d7",
  "#cca700",
  "#11a8cd",
  "#bc3fbc",
];

export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  font: string;
  /** The colour of the run in slot `index` (repeats past the palette). */
  run(index: number): string;
}

export function readTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const colours = PALETTE.map((name, i) => v(name, FALLBACK[i]!));
  return {
    foreground: v("--vscode-foreground", "#cccccc"),
    muted: v("--vscode-descriptionForeground", "#999999"),
    grid: v("--vscode-editorWidget-border", v("--vscode-panel-border", "#80808040")),
    font: `${v("--vscode-font-size", "12px")} ${v("--vscode-font-family", "sans-serif")}`,
    run: (index) => colours[index % colours.length]!,
  };
}

/** `#rrggbb` (or `#rgb`, `#rrggbbaa`) at the given opacity; other colour syntaxes pass unchanged. */
export function withAlpha(colour: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(colour)?.[1];
  if (!hex) {
    return colour;
  }
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex.slice(0, 6);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** VS Code swaps the body's `vscode-light` / `vscode-dark` / high-contrast class on a theme change. */
export function onThemeChange(listener: () => void): void {
  new MutationObserver(listener).observe(document.body, {
    attributes: true,
    attributeFilter: ["class"],
  });
}
