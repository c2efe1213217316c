/**
 * The Compare view's contract and pure pieces: what the host accepts from the webview, the page's
 * content security policy, the table's rows (a metric's last, min, max and points) and difference
 * filter, cell formatting, the note on NaN/±Infinity points and the parallel coordinates layout.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isWebviewMessage, type CompareRow } from "../../schemas/webview";
import { comparePage, contentSecurityPolicy } from "../../extension/src/runs/compare/html";
import { clampPoints, metricCell } from "../../extension/src/runs/compare/session";
import {
  formatCell,
  formatTick,
  nonFiniteText,
  notDrawnNote,
} from "../../webview/src/compare/format";
import { tableRows } from "../../webview/src/compare/tableRows";
import { parallelLayout } from "../../webview/src/compare/parallelLayout";

test("isWebviewMessage accepts the three message types and refuses anything else", () => {
  assert.ok(isWebviewMessage({ type: "ready" }));
  assert.ok(isWebviewMessage({ type: "openRun", runId: "abc" }));
  assert.ok(
    isWebviewMessage({ type: "fetch", requestId: 1, key: "loss", range: null, points: 2000 }),
  );
  assert.ok(
    isWebviewMessage({
      type: "fetch",
      requestId: 2,
      key: "loss",
      range: { minStep: 0, maxStep: null },
      points: 50,
    }),
  );
  for (const bad of [
    null,
    "ready",
    {},
    { type: "nope" },
    { type: "openRun", runId: "" },
    { type: "fetch", requestId: 1, key: "", range: null, points: 10 },
    { type: "fetch", requestId: 1.5, key: "loss", range: null, points: 10 },
    { type: "fetch", requestId: 1, key: "loss", range: { minStep: "0", maxStep: 1 }, points: 10 },
    { type: "fetch", requestId: 1, key: "loss", points: 10 },
  ]) {
    assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

test("the page's CSP: nothing by default, nonce'd scripts only, no unsafe-inline", () => {
  const csp = contentSecurityPolicy("https://webview.example", "N0NCE");
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, /script-src 'nonce-N0NCE'(;|$)/);
  assert.match(csp, /style-src https:\/\/webview\.example 'nonce-N0NCE'/);
  assert.doesNotMatch(csp, /unsafe-(inline|eval)/);
  const page = comparePage({
    cspSource: "https://webview.example",
    script: "https://webview.example/dist/webview/compare.js",
    style: "https://webview.example/dist/webview/compare.css",
    codicons: "https://webview.example/dist/webview/codicon.css",
    nonce: "N0NCE",
    title: 'Compare <a> & "b"',
  });
  assert.match(page, /<meta property="csp-nonce" content="N0NCE">/);
  assert.match(page, /<script type="module" nonce="N0NCE" src="[^"]+compare\.js"><\/script>/);
  assert.doesNotMatch(page, /<script(?![^>]*nonce="N0NCE")/);
  assert.doesNotMatch(page, /style="/, "no inline style attributes");
  assert.match(page, /<title>Compare &#60;a&#62; &#38; &#34;b&#34;<\/title>/);
  const two = [comparePage({ ...parts() }), comparePage({ ...parts() })].map(
    (p) => /content="([^"]+)">/.exec(p.split("csp-nonce")[1]!)![1],
  );
  assert.notEqual(two[0], two[1], "a fresh nonce per page");
});

function parts() {
  return { cspSource: "x", script: "s", style: "c", codicons: "i", title: "t" };
}

test("points asked of the history route stay within its 10..100000", () => {
  assert.deepEqual([clampPoints(1), clampPoints(2000.4), clampPoints(1e9)], [10, 2000, 100_000]);
});

test("cells: a dash for a missing value, 6 significant digits, words as they are", () => {
  assert.equal(formatCell(null), "—");
  assert.equal(formatCell("0.123456789"), "0.123457");
  assert.equal(formatCell("500"), "500");
  assert.equal(formatCell("NaN"), "NaN");
  assert.equal(formatCell("Seattle"), "Seattle");
  assert.equal(formatCell("[2012,2013]"), "[2012,2013]");
  assert.deepEqual(
    [formatTick(0), formatTick(0.5), formatTick(123456), formatTick(0.0001)],
    ["0", "0.5", "1.2e+5", "1.0e-4"],
  );
});

test("the table: a param is a row, a metric four (last, min, max, points), each marked if it differs", () => {
  const cell = (last: string, min: string, max: string, count: number, nan = 0, posInf = 0) => ({
    last,
    min,
    max,
    count,
    nan,
    posInf,
    negInf: 0,
  });
  const rows: CompareRow[] = [
    { key: "lr", group: "params", values: ["0.1", "0.1"], differs: false },
    {
      key: "loss",
      group: "metrics",
      values: ["0.123456789", "NaN"],
      differs: true,
      summaries: [cell("0.123456789", "0.1", "2", 50), cell("NaN", "0.1", "Infinity", 50, 3, 1)],
    },
    {
      key: "acc",
      group: "metrics",
      values: ["0.9", null],
      differs: true,
      summaries: [cell("0.9", "0.5", "0.9", 10), null],
    },
  ];
  assert.deepEqual(
    tableRows(rows, false).map((r) => [r.label, ...r.cells]),
    [
      ["param lr", "0.1", "0.1"],
      ["metric loss · last ≠", "0.123457", "NaN"],
      ["metric loss · min", "0.1", "0.1"],
      ["metric loss · max ≠", "2", "Infinity"],
      ["metric loss · points ≠", "50", "50 (3 NaN, 1 +Infinity)"],
      ["metric acc · last ≠", "0.9", "—"],
      ["metric acc · min ≠", "0.5", "—"],
      ["metric acc · max ≠", "0.9", "—"],
      ["metric acc · points ≠", "10", "—"],
    ],
  );
  assert.deepEqual(
    tableRows(rows, true).map((r) => r.label),
    [
      "metric loss · last ≠",
      "metric loss · max ≠",
      "metric loss · points ≠",
      "metric acc · last ≠",
      "metric acc · min ≠",
      "metric acc · max ≠",
      "metric acc · points ≠",
    ],
  );
});

test("metricCell: an infinite min or max is spelled as the daemon spells it; all-NaN says NaN", () => {
  const summary = { last: 1, step: 0, count: 4, nan: 0, posInf: 0, negInf: 0 };
  assert.deepEqual(metricCell({ ...summary, min: 0.5, max: 2 }), {
    last: "1",
    min: "0.5",
    max: "2",
    count: 4,
    nan: 0,
    posInf: 0,
    negInf: 0,
  });
  const both = metricCell({
    ...summary,
    min: null,
    minText: "-Infinity",
    max: null,
    maxText: "Infinity",
    posInf: 1,
    negInf: 1,
  });
  assert.deepEqual([both.min, both.max], ["-Infinity", "Infinity"]);
  const nan = metricCell({ ...summary, last: null, text: "NaN", min: null, max: null, nan: 4 });
  assert.deepEqual([nan.last, nan.min, nan.max], ["NaN", "NaN", "NaN"]);
  const up = metricCell({
    ...summary,
    last: null,
    text: "Infinity",
    min: null,
    minText: "Infinity",
    max: null,
    maxText: "Infinity",
    posInf: 2,
  });
  assert.deepEqual([up.last, up.min, up.max], ["Infinity", "Infinity", "Infinity"]);
});

test("the note under a chart counts the points it cannot draw, with their marks and runs", () => {
  const none = { nan: 0, posInf: 0, negInf: 0 };
  assert.equal(nonFiniteText(none), "");
  assert.equal(nonFiniteText({ nan: 3, posInf: 1, negInf: 2 }), "3 NaN, 1 +Infinity, 2 -Infinity");
  assert.equal(notDrawnNote([{ name: "a", id: "1".repeat(32), counts: none }]), "");
  assert.equal(
    notDrawnNote([
      { name: "a", id: "1".repeat(32), counts: none },
      { name: "b", id: "2".repeat(32), counts: { nan: 1, posInf: 0, negInf: 0 } },
    ]),
    "◆ 1 NaN point not drawn (b)",
  );
  // Two stage runs named "train" are told apart by their short ids.
  assert.equal(
    notDrawnNote([
      { name: "train", id: "1".repeat(32), counts: { nan: 3, posInf: 0, negInf: 0 } },
      { name: "train", id: "2".repeat(32), counts: { nan: 0, posInf: 1, negInf: 0 } },
    ]),
    "◆ 3 NaN, ▲ 1 +Infinity points not drawn (train 1111111: 3 NaN; train 2222222: 1 +Infinity)",
  );
});

test("parallel coordinates: numeric axes scale min→bottom, max→top; words are categories", () => {
  const rows: Pick<CompareRow, "key" | "values">[] = [
    { key: "lr", values: ["0.1", "0.3", "0.2"] },
    { key: "opt", values: ["sgd", "adam", null] },
    { key: "acc", values: ["0.9", "0.9", "0.9"] },
  ];
  const layout = parallelLayout(rows, 3, { width: 240, height: 140, margin: 20 });
  assert.deepEqual(
    layout.axes.map((a) => [a.key, a.x, a.numeric]),
    [
      ["lr", 20, true],
      ["opt", 120, false],
      ["acc", 220, true],
    ],
  );
  // lr: 0.1 at the bottom (120), 0.3 at the top (20), 0.2 halfway.
  assert.deepEqual(
    layout.lines.map((l) => Math.round(l[0]!)),
    [120, 20, 70],
  );
  // opt: sorted categories adam (bottom), sgd (top); the third run has none.
  assert.deepEqual(
    layout.lines.map((l) => l[1]),
    [20, 120, null],
  );
  assert.deepEqual(
    layout.axes[1]!.ticks.map((t) => t.label),
    ["adam", "sgd"],
  );
  // A constant axis sits in the middle.
  assert.deepEqual(
    layout.lines.map((l) => Math.round(l[2]!)),
    [70, 70, 70],
  );
});
