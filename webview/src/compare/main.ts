/**
 * The Compare Runs webview: sends `ready`, then draws what the host posts (schemas/webview.ts):
 * a chart per metric, the params/metrics table and parallel coordinates, under a toolbar for the
 * x axis, log scale and smoothing.
 */
import "uplot/dist/uPlot.min.css";
import "../components/components.css";
import "./compare.css";
import type {
  CompareModel,
  HostMessage,
  StepRange,
  WebviewMessage,
} from "../../../schemas/webview";
import { checkbox, dropdown, el, slider } from "../components";
import { MetricChart, type ChartOptions } from "./chart";
import { notDrawnNote } from "./format";
import { ParallelCoordinates } from "./parallel";
import { CompareTable } from "./table";
import { onThemeChange, readTheme, type ChartTheme } from "./theme";

declare function acquireVsCodeApi(): { postMessage(message: WebviewMessage): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById("app")!;
const charts = new Map<string, MetricChart>();
const chartsArea = el("div", { className: "charts" });
const status = el("p", { className: "status", role: "status" });
const table = new CompareTable();
let theme: ChartTheme = readTheme();
const parallel = new ParallelCoordinates(() => theme);
let options: ChartOptions = { x: "step", logScale: false, smoothing: 0 };
let points = 2000;
let model: CompareModel | undefined;
let nextRequest = 1;

const host = {
  theme: () => theme,
  options: () => options,
  fetch(key: string, range: StepRange | null): number {
    const requestId = nextRequest++;
    vscode.postMessage({ type: "fetch", requestId, key, range, points });
    return requestId;
  },
};

window.addEventListener("message", (event: MessageEvent<HostMessage>) => receive(event.data));
// Anything the content security policy blocks is counted where a test (or a person) can see it.
let violations = 0;
document.addEventListener("securitypolicyviolation", (event) => {
  app.dataset.cspViolations = String(++violations);
  console.error(`CSP blocked ${event.blockedURI || "inline"} (${event.violatedDirective})`);
});
onThemeChange(() => {
  theme = readTheme();
  rebuildCharts();
  parallel.render();
});
vscode.postMessage({ type: "ready" });

function receive(message: HostMessage): void {
  switch (message.type) {
    case "model":
      if (!model) {
        options = {
          x: message.defaults.x,
          logScale: message.defaults.logScale,
          smoothing: message.defaults.smoothing,
        };
        points = message.defaults.points;
        layout();
      }
      setModel(message.model);
      return;
    case "series":
      charts
        .get(message.key)
        ?.receive(message.runId, message.requestId, message.range, message.mode, message.points);
      return;
    case "error":
      status.textContent = `Could not load metrics: ${message.message}`;
      return;
    default:
      assertNever(message);
  }
}

function layout(): void {
  const toolbar = el(
    "div",
    { className: "toolbar" },
    dropdown({
      label: "X axis",
      options: [
        { value: "step", label: "Step" },
        { value: "time", label: "Wall time" },
      ],
      value: options.x,
      onChange: (x) => setOptions({ x }),
    }),
    checkbox({
      label: "Log scale",
      checked: options.logScale,
      onChange: (logScale) => setOptions({ logScale }),
    }),
    slider({
      label: "Smoothing",
      min: 0,
      max: 0.99,
      step: 0.01,
      value: options.smoothing,
      format: (v) => v.toFixed(2),
      onInput: (smoothing) => setOptions({ smoothing }),
    }),
  );
  app.replaceChildren(
    el("h1", {}, "Compare runs"),
    el("div", { className: "legend", id: "legend" }),
    toolbar,
    status,
    chartsArea,
    table.element,
    parallel.element,
  );
}

function setModel(next: CompareModel): void {
  model = next;
  app.dataset.runs = String(next.runs.length);
  document.getElementById("legend")!.replaceChildren(
    ...next.runs.map((run) => {
      const swatch = el("span", { className: "swatch" });
      swatch.style.backgroundColor = theme.run(run.index);
      const link = el(
        "a",
        { title: `Open the log of ${run.name}` },
        swatch,
        `${run.name} `,
        el("code", {}, run.id.slice(0, 7)),
        ` ${run.status.toLowerCase()}`,
      );
      link.tabIndex = 0;
      link.addEventListener("click", () => vscode.postMessage({ type: "openRun", runId: run.id }));
      link.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          vscode.postMessage({ type: "openRun", runId: run.id });
        }
      });
      return link;
    }),
  );
  for (const key of next.metricKeys) {
    let chart = charts.get(key);
    if (chart) {
      chart.setRuns(next.runs);
    } else {
      chart = new MetricChart(key, next.runs, host);
      charts.set(key, chart);
      chartsArea.append(chart.element);
      chart.rebuild();
    }
    chart.setNotDrawn(notDrawnOf(next, key));
  }
  status.textContent = next.metricKeys.length ? "" : "These runs logged no metrics yet.";
  table.setModel(next);
  parallel.setModel(next);
}

/** The note on a metric's NaN/±Infinity points, from the table's exact counts per run. */
function notDrawnOf(next: CompareModel, key: string): string {
  const row = next.rows.find((r) => r.group === "metrics" && r.key === key);
  return notDrawnNote(
    next.runs.flatMap((run, i) => {
      const counts = row?.summaries?.[i];
      return counts ? [{ name: run.name, id: run.id, counts }] : [];
    }),
  );
}

function setOptions(change: Partial<ChartOptions>): void {
  options = { ...options, ...change };
  rebuildCharts();
}

function rebuildCharts(): void {
  for (const chart of charts.values()) {
    chart.rebuild();
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected message ${JSON.stringify(value)}`);
}
