// Chart library for the Compare view (issue #3): 10 runs x 100k points each, drawn in headless
// Chromium (/usr/bin/chromium through playwright-core) by uPlot 1.6.32 and by Chart.js 4.6.1
// (animation off, parsing off, no points: its documented fast path), and Chart.js with its LTTB
// decimation plugin on. Each library renders the same data into an 900x300 canvas; the time is
// from the constructor call to the end of the first full draw (each library's own draw hook),
// median of RUNS renders after a warm-up. Prints the medians and the ratio to uPlot.
// Run: node bench/charts.mjs [runs=10] [points=100000] [repeats=7]
import { chromium } from "playwright-core";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const modules = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules");
const RUNS = Number(process.argv[2] ?? 10);
const POINTS = Number(process.argv[3] ?? 100_000);
const REPEATS = Number(process.argv[4] ?? 7);

const browser = await chromium.launch({
  executablePath: process.env.LATHE_E2E_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 400 } });
  await page.setContent('<div id="host" style="width:900px;height:300px"></div>');
  await page.addScriptTag({ path: join(modules, "uplot/dist/uPlot.iife.min.js") });
  await page.addScriptTag({ path: join(modules, "chart.js/dist/chart.umd.min.js") });
  await page.evaluate(setup, { runs: RUNS, points: POINTS });

  const results = {};
  for (const lib of ["uplot", "chartjs", "chartjs-decimated"]) {
    await page.evaluate((l) => window.renderOnce(l), lib); // warm-up (JIT, fonts)
    const times = [];
    for (let i = 0; i < REPEATS; i++) {
      times.push(await page.evaluate((l) => window.renderOnce(l), lib));
    }
    times.sort((a, b) => a - b);
    results[lib] = {
      median: times[Math.floor(times.length / 2)],
      min: times[0],
      max: times.at(-1),
    };
  }
  const base = results.uplot.median;
  console.log(
    `charts: ${RUNS} runs x ${POINTS} points, ${REPEATS} renders each (median, min-max ms)`,
  );
  for (const [lib, r] of Object.entries(results)) {
    console.log(
      `  ${lib.padEnd(18)} ${r.median.toFixed(1).padStart(8)} ms  (${r.min.toFixed(1)}-${r.max.toFixed(1)})  ratio to uPlot ${(r.median / base).toFixed(2)}x`,
    );
  }
} finally {
  await browser.close();
}

/** Runs in the page: the data, and one render of a library timed to its first full draw. */
function setup({ runs, points }) {
  const xs = Float64Array.from({ length: points }, (_, i) => i);
  const curves = Array.from({ length: runs }, (_, r) => {
    let v = 1 + r * 0.1;
    return Float64Array.from({ length: points }, (_, i) => {
      v = v * 0.99995 + Math.sin(i / 500 + r) * 0.001 + (Math.random() - 0.5) * 0.02;
      return v;
    });
  });
  const uplotData = [Array.from(xs), ...curves.map((c) => Array.from(c))];
  const chartData = curves.map((c) => Array.from(c, (y, i) => ({ x: i, y })));
  const host = document.getElementById("host");
  const colours = ["#3794ff", "#d18616", "#89d185", "#f14c4c", "#b180d7", "#cca700"];

  window.renderOnce = (lib) =>
    new Promise((resolve) => {
      host.replaceChildren();
      let t0 = 0;
      if (lib === "uplot") {
        let chart;
        const opts = {
          width: 900,
          height: 300,
          series: [{}, ...curves.map((_, r) => ({ stroke: colours[r % 6], width: 1 }))],
          scales: { x: { time: false } },
          hooks: {
            draw: [
              () => {
                const ms = performance.now() - t0;
                queueMicrotask(() => chart.destroy());
                resolve(ms);
              },
            ],
          },
        };
        t0 = performance.now();
        chart = new uPlot(opts, uplotData, host);
      } else {
        const canvas = document.createElement("canvas");
        canvas.width = 900;
        canvas.height = 300;
        host.append(canvas);
        let chart;
        const done = {
          id: "timing",
          afterRender: () => {
            const ms = performance.now() - t0;
            queueMicrotask(() => chart.destroy());
            resolve(ms);
          },
        };
        t0 = performance.now();
        chart = new Chart(canvas, {
          type: "line",
          data: {
            // Fresh copies: decimation rewrites a dataset's data in place.
            datasets: chartData.map((data, r) => ({
              data: lib === "chartjs-decimated" ? data.slice() : data,
              borderColor: colours[r % 6],
              borderWidth: 1,
              pointRadius: 0,
              spanGaps: true,
            })),
          },
          options: {
            responsive: false,
            animation: false,
            parsing: false,
            normalized: true,
            indexAxis: "x",
            scales: { x: { type: "linear" } },
            plugins: {
              legend: { display: false },
              tooltip: { enabled: false },
              decimation: { enabled: lib === "chartjs-decimated", algorithm: "lttb", samples: 900 },
            },
          },
          plugins: [done],
        });
      }
    });
}
