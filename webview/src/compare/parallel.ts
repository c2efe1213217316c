/** Parallel coordinates of the runs' params against a metric chosen in a dropdown (SVG). */
import type { CompareModel } from "../../../schemas/webview";
import { dropdown, el } from "../components";
import { parallelLayout } from "./parallelLayout";
import type { ChartTheme } from "./theme";

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 260;
const MARGIN = 40;

export class ParallelCoordinates {
  readonly element: HTMLElement;
  private readonly picker: HTMLElement;
  private readonly canvas: HTMLElement;
  private model: CompareModel | undefined;
  private metric: string | undefined;

  constructor(private readonly theme: () => ChartTheme) {
    this.picker = el("span");
    this.canvas = el("div", { className: "parallel-plot" });
    this.element = el(
      "section",
      { className: "parallel" },
      el("div", { className: "toolbar" }, el("h2", {}, "Params against a metric"), this.picker),
      this.canvas,
    );
    new ResizeObserver(() => this.render()).observe(this.canvas);
  }

  setModel(model: CompareModel): void {
    this.model = model;
    const metrics = model.rows.filter((r) => r.group === "metrics").map((r) => r.key);
    if (this.metric === undefined || !metrics.includes(this.metric)) {
      this.metric = metrics[0];
    }
    this.picker.replaceChildren(
      metrics.length
        ? dropdown({
            label: "Metric",
            options: metrics.map((m) => ({ value: m, label: m })),
            value: this.metric!,
            onChange: (value) => {
              this.metric = value;
              this.render();
            },
          })
        : el("span", {}, "no metrics logged"),
    );
    this.render();
  }

  render(): void {
    const model = this.model;
    if (!model) {
      return;
    }
    const params = model.rows.filter((r) => r.group === "params");
    const metric = model.rows.find((r) => r.group === "metrics" && r.key === this.metric);
    const axes = [...params, ...(metric ? [metric] : [])];
    if (axes.length === 0) {
      this.canvas.replaceChildren(el("p", {}, "These runs have no params or metrics."));
      return;
    }
    const width = Math.max(300, this.canvas.clientWidth);
    const layout = parallelLayout(axes, model.runs.length, {
      width,
      height: HEIGHT,
      margin: MARGIN,
    });
    const theme = this.theme();
    const svg = svgEl("svg", { width, height: HEIGHT, role: "img" });
    svg.setAttribute("aria-label", `Parallel coordinates of ${axes.map((a) => a.key).join(", ")}`);
    model.runs.forEach((run, r) => {
      const points = layout.lines[r]!.map((y, a) =>
        y === null ? null : `${layout.axes[a]!.x},${y}`,
      );
      // A missing value breaks the line: draw each unbroken stretch.
      let stretch: string[] = [];
      const flush = () => {
        if (stretch.length > 1) {
          const line = svgEl("polyline", {
            points: stretch.join(" "),
            fill: "none",
            stroke: theme.run(run.index),
            "stroke-width": 2,
          });
          line.append(svgText("title", `${run.name} (${run.id.slice(0, 7)})`));
          svg.append(line);
        }
        stretch = [];
      };
      for (const p of points) {
        if (p === null) {
          flush();
        } else {
          stretch.push(p);
        }
      }
      flush();
    });
    for (const axis of layout.axes) {
      svg.append(
        svgEl("line", {
          x1: axis.x,
          x2: axis.x,
          y1: MARGIN,
          y2: HEIGHT - MARGIN,
          stroke: theme.muted,
        }),
      );
      const label = svgEl("text", {
        x: axis.x,
        y: MARGIN - 14,
        "text-anchor": "middle",
        fill: theme.foreground,
      });
      label.textContent = axis.key;
      svg.append(label);
      for (const tick of axis.ticks) {
        const t = svgEl("text", {
          x: axis.x + 4,
          y: tick.y + 4,
          fill: theme.muted,
          "font-size": 10,
        });
        t.textContent = tick.label;
        svg.append(t);
      }
    }
    this.canvas.replaceChildren(svg);
  }
}

function svgEl(tag: string, attrs: Record<string, string | number>): SVGElement {
  const node: SVGElement = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, String(value));
  }
  return node;
}

function svgText(tag: string, text: string): SVGElement {
  const node: SVGElement = document.createElementNS(SVG, tag);
  node.textContent = text;
  return node;
}
