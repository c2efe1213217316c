/**
 * One metric's chart (uPlot, chosen by bench/charts.mjs): every run's curve overlaid, x = step or
 * time, optional log scale, EMA smoothing drawn over a faint raw curve, and drag-to-zoom that asks
 * the host for finer points of the zoomed step range (double-click zooms back out). A focused
 * chart zooms from the keyboard too (+/-, arrow keys, 0 or Escape; keyZoom.ts), by the same path.
 * NaN and ±Infinity points cannot be drawn: each is marked on the plot's edge in its run's colour
 * (▲ +Infinity at the top, ▼ -Infinity and ◆ NaN at the bottom) and a note under the chart counts
 * them.
 */
import uPlot from "uplot";
import type { CompareRun, SeriesPoints, StepRange, XAxis } from "../../../schemas/webview";
import { el } from "../components";
import { keyZoom } from "./keyZoom";
import {
  appendPoints,
  ema,
  extent,
  join,
  nonFiniteMarks,
  positiveOnly,
  sortedBy,
  zoomRange,
  type NonFiniteKind,
} from "./series";
import { withAlpha, type ChartTheme } from "./theme";

export interface ChartOptions {
  x: XAxis;
  logScale: boolean;
  smoothing: number;
}

export interface ChartHost {
  theme(): ChartTheme;
  options(): ChartOptions;
  /** Asks the host for the key's points in a range; returns the request id. */
  fetch(key: string, range: StepRange | null): number;
}

const HEIGHT = 240;

export class MetricChart {
  readonly element: HTMLElement;
  private readonly plotArea: HTMLElement;
  private readonly note: HTMLElement;
  /** Under the plot: how many points are NaN or ±Infinity and so not drawn. */
  private readonly notDrawn: HTMLElement;
  /** The NaN/±Infinity points of the data drawn, per run (its colour slot), for drawMarks. */
  private marks: { index: number; marks: { x: number; kind: NonFiniteKind }[] }[] = [];
  private plot: uPlot | undefined;
  private readonly full = new Map<string, SeriesPoints>();
  private zoom: {
    requestId: number;
    min: number;
    max: number;
    range: StepRange;
    data: Map<string, SeriesPoints>;
  } | null = null;
  /** The runs and options the plot was built for; a change needs a new plot. */
  private builtFor = "";
  /** setScale calls made by this class, not by the user's drag or double-click. */
  private internal = false;
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(
    readonly key: string,
    private runs: CompareRun[],
    private readonly host: ChartHost,
  ) {
    this.plotArea = el("div", { className: "chart-plot" });
    this.note = el("span", { className: "chart-note" });
    this.notDrawn = el("p", { className: "chart-not-drawn" });
    this.element = el(
      "section",
      { className: "chart" },
      el("h3", {}, key, " ", this.note),
      this.plotArea,
      this.notDrawn,
    );
    this.element.dataset.metric = key;
    // Focusable, so the keyboard reaches the zoom a drag gives the mouse.
    this.element.tabIndex = 0;
    this.element.setAttribute("role", "group");
    this.element.setAttribute(
      "aria-label",
      `${key} chart. Plus and minus zoom, arrow keys pan, 0 or Escape resets.`,
    );
    this.element.setAttribute("aria-keyshortcuts", "+ - ArrowLeft ArrowRight 0 Escape");
    this.note.setAttribute("aria-live", "polite");
    this.element.addEventListener("keydown", (e) => this.onKey(e));
    this.resize.observe(this.plotArea);
  }

  setRuns(runs: CompareRun[]): void {
    this.runs = runs;
    this.rebuild();
  }

  /** The note on the points not drawn (format.ts `notDrawnNote`), from the host's counts. */
  setNotDrawn(note: string): void {
    this.notDrawn.textContent = note;
    this.notDrawn.hidden = note === "";
  }

  /** Points from the host: the whole curve, a live append, or the answer to a zoom. */
  receive(
    runId: string,
    requestId: number | null,
    range: StepRange | null,
    mode: "replace" | "append",
    points: SeriesPoints,
  ): void {
    if (this.zoom && requestId === this.zoom.requestId) {
      this.zoom.data.set(runId, points);
      this.redraw();
      return;
    }
    if (mode === "append") {
      this.full.set(runId, appendPoints(this.full.get(runId) ?? points, points));
      const zoomed = this.zoom?.data.get(runId);
      if (this.zoom && zoomed) {
        this.zoom.data.set(runId, appendPoints(zoomed, points));
      }
    } else if (range === null) {
      this.full.set(runId, points);
    }
    this.redraw();
  }

  /** Rebuilds the plot (options, runs or theme changed). */
  rebuild(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.plotArea.replaceChildren();
    const width = Math.max(200, this.plotArea.clientWidth);
    this.plot = new uPlot(this.plotOptions(width), this.data(), this.plotArea);
    this.builtFor = this.signature();
    this.restoreZoom();
    this.updateNote();
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
  }

  /** How many curves the chart draws now (raw ones included); for tests. */
  curveCount(): number {
    return this.plot ? this.plot.series.length - 1 : 0;
  }

  private redraw(): void {
    if (!this.plot || this.signature() !== this.builtFor) {
      this.rebuild();
      this.updateNote();
      return;
    }
    this.internal = true;
    try {
      this.plot.setData(this.data(), this.zoom === null);
    } finally {
      this.internal = false;
    }
    this.restoreZoom();
    this.updateNote();
  }

  private restoreZoom(): void {
    if (this.zoom && this.plot) {
      this.internal = true;
      try {
        this.plot.setScale("x", { min: this.zoom.min, max: this.zoom.max });
      } finally {
        this.internal = false;
      }
    }
  }

  private fit(): void {
    if (this.plot) {
      this.plot.setSize({ width: Math.max(200, this.plotArea.clientWidth), height: HEIGHT });
    }
  }

  private updateNote(): void {
    const { x } = this.host.options();
    this.note.textContent = this.zoom
      ? `zoomed to steps ${this.zoom.range.minStep}–${this.zoom.range.maxStep}: double-click or 0 resets`
      : "";
    this.element.dataset.curves = String(this.curveCount());
    // NaN/±Infinity points marked in view, for people reading the DOM (and the e2e test).
    this.element.dataset.marks = String(this.marks.reduce((n, m) => n + m.marks.length, 0));
    this.element.dataset.x = x;
    // The highest step drawn, for people reading the DOM (and the e2e test of live growth).
    this.element.dataset.maxStep = String(extent([...this.full.values()], "step")?.[1] ?? "");
    if (this.zoom) {
      const held = [...this.zoom.data.values()].reduce((n, p) => n + p.steps.length, 0);
      this.element.dataset.zoom = `${this.zoom.range.minStep}..${this.zoom.range.maxStep}`;
      this.element.dataset.zoomPoints = String(held);
    } else {
      delete this.element.dataset.zoom;
      delete this.element.dataset.zoomPoints;
    }
  }

  private signature(): string {
    return JSON.stringify([this.shown().map((r) => r.id), this.host.options()]);
  }

  private shown(): CompareRun[] {
    return this.runs.filter((r) => this.full.has(r.id));
  }

  /** The table uPlot draws; also notes where the NaN/±Infinity points are, for drawMarks. */
  private data(): uPlot.AlignedData {
    const { x, logScale, smoothing } = this.host.options();
    this.marks = this.shown().map((run) => ({
      index: run.index,
      marks: nonFiniteMarks(this.zoom?.data.get(run.id) ?? this.full.get(run.id)!, x),
    }));
    const curves = this.shown().flatMap((run) => {
      const points = this.zoom?.data.get(run.id) ?? this.full.get(run.id)!;
      const { xs, ys } = sortedBy(points, x);
      const raw = logScale ? positiveOnly(ys) : ys;
      return smoothing > 0
        ? [
            { xs, ys: raw },
            { xs, ys: ema(raw, smoothing) },
          ]
        : [{ xs, ys: raw }];
    });
    return join(curves);
  }

  private plotOptions(width: number): uPlot.Options {
    const theme = this.host.theme();
    const { x, logScale, smoothing } = this.host.options();
    const series: uPlot.Series[] = [{ label: x === "step" ? "step" : "time" }];
    for (const run of this.shown()) {
      const colour = theme.run(run.index);
      // Stage runs share names ("train"): the short id tells two of them apart in the legend.
      const label = `${run.name} ${run.id.slice(0, 8)}`;
      if (smoothing > 0) {
        series.push({ label: `${label} (raw)`, stroke: withAlpha(colour, 0.3), width: 1 });
      }
      series.push({ label, stroke: colour, width: 1.5 });
    }
    const axis = (): uPlot.Axis => ({
      stroke: theme.muted,
      grid: { stroke: withAlpha(theme.grid, 0.5), width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
      font: theme.font,
    });
    return {
      width,
      height: HEIGHT,
      series,
      scales: { x: { time: x === "time" }, y: { distr: logScale ? 3 : 1 } },
      axes: [axis(), { ...axis(), size: 60 }],
      cursor: {
        drag: { x: true, y: false, setScale: true },
        // Double-click goes back to the whole curve (uPlot's own reset would fit the zoomed data).
        bind: {
          dblclick: () => () => {
            this.resetZoom();
            return null;
          },
        },
      },
      legend: { show: true, live: true },
      hooks: {
        setScale: [(u, key) => this.onScale(u, key)],
        draw: [(u) => this.drawMarks(u)],
      },
    };
  }

  /**
   * Marks each NaN/±Infinity point in view on the plot's edge, in its run's colour: a curve's
   * gap otherwise looks like missing data. The shapes are the ones the note names (format.ts `MARKS`).
   */
  private drawMarks(u: uPlot): void {
    const { ctx, bbox } = u;
    const size = 4 * (window.devicePixelRatio || 1);
    const top = bbox.top;
    const bottom = bbox.top + bbox.height;
    ctx.save();
    for (const { index, marks } of this.marks) {
      ctx.fillStyle = this.host.theme().run(index);
      for (const mark of marks) {
        const px = u.valToPos(mark.x, "x", true);
        if (!(px >= bbox.left && px <= bbox.left + bbox.width)) {
          continue;
        }
        ctx.beginPath();
        if (mark.kind === "posInf") {
          ctx.moveTo(px, top);
          ctx.lineTo(px + size, top + 2 * size);
          ctx.lineTo(px - size, top + 2 * size);
        } else if (mark.kind === "negInf") {
          ctx.moveTo(px, bottom);
          ctx.lineTo(px + size, bottom - 2 * size);
          ctx.lineTo(px - size, bottom - 2 * size);
        } else {
          const cy = bottom - size;
          ctx.moveTo(px, cy - size);
          ctx.lineTo(px + size, cy);
          ctx.lineTo(px, cy + size);
          ctx.lineTo(px - size, cy);
        }
        ctx.closePath();
        ctx.fill();
      }
    }
    ctx.restore();
  }

  private resetZoom(): void {
    this.zoom = null;
    if (this.plot) {
      this.internal = true;
      try {
        this.plot.setData(this.data(), true);
      } finally {
        this.internal = false;
      }
    }
    this.updateNote();
  }

  /**
   * A key on the focused chart: a new window goes through setScale as a drag's does, so
   * onScale fetches its finer points; keys that do nothing here are left to the page (Tab).
   */
  private onKey(e: KeyboardEvent): void {
    if (!this.plot || e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    const { x } = this.host.options();
    const all = extent([...this.full.values()], x);
    if (!all) {
      return;
    }
    const current: [number, number] = this.zoom ? [this.zoom.min, this.zoom.max] : all;
    // A step apart on the step axis; a millisecond on the time axis (in seconds there).
    const result = keyZoom(e.key, e.shiftKey, current, all, x === "step" ? 1 : 0.001);
    if (result === null) {
      return;
    }
    e.preventDefault();
    if (result === "reset") {
      if (this.zoom) {
        this.resetZoom();
      }
      return;
    }
    const [min, max] = result.window;
    this.plot.setScale("x", { min, max });
  }

  /** The user dragged a range: fetch finer points for it (or, for the whole range, drop the zoom). */
  private onScale(u: uPlot, key: string): void {
    if (key !== "x" || this.internal) {
      return;
    }
    const { min, max } = u.scales.x ?? {};
    const { x } = this.host.options();
    const all = extent([...this.full.values()], x);
    if (min === undefined || max === undefined || !all || (min <= all[0] && max >= all[1])) {
      if (this.zoom) {
        this.zoom = null;
        this.redraw();
      }
      return;
    }
    const range = zoomRange([...this.full.values()], x, min, max);
    if (!range) {
      return;
    }
    const requestId = this.host.fetch(this.key, range);
    this.zoom = { requestId, min, max, range, data: new Map() };
    this.updateNote();
  }
}
