/** Curve data of the Compare charts (webview/src/compare/series.ts), values checked by hand. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SeriesPoints } from "../../schemas/webview";
import {
  appendPoints,
  ema,
  extent,
  join,
  nonFiniteMarks,
  positiveOnly,
  sortedBy,
  zoomRange,
} from "../../webview/src/compare/series";
import { keyZoom } from "../../webview/src/compare/keyZoom";

function pts(steps: number[], values: (number | null)[], times = steps.map((s) => s * 1000)) {
  return { steps, times, values, texts: values.map((v) => (v === null ? "NaN" : null)) };
}

test("ema: weight 0 is the identity; debiased, so the first value is kept exactly", () => {
  assert.deepEqual(ema([1, 2, 3], 0), [1, 2, 3]);
  const out = ema([10, 20], 0.5);
  assert.equal(out[0], 10);
  // (0.5*0.5*... ) last = 0.5*5 + 0.5*20 = 12.5; debias 1 - 0.25 = 0.75 → 16.666…
  assert.ok(Math.abs(out[1]! - 12.5 / 0.75) < 1e-12);
  const flat = ema([3, 3, 3, 3], 0.9);
  assert.ok(
    flat.every((v) => Math.abs(v! - 3) < 1e-12),
    "a constant stays constant",
  );
});

test("ema: NaN/Infinity points (null) stay gaps and do not enter the average", () => {
  const out = ema([10, null, 20], 0.5);
  assert.equal(out[1], null);
  assert.ok(Math.abs(out[2]! - 12.5 / 0.75) < 1e-12);
  assert.deepEqual(ema([Infinity, 1], 0.5), [null, 1]);
});

test("join: same x is passed through; different x is a union, undefined (drawn across) where a curve has no point", () => {
  assert.deepEqual(
    join([
      { xs: [0, 1], ys: [5, 6] },
      { xs: [0, 1], ys: [7, 8] },
    ]),
    [
      [0, 1],
      [5, 6],
      [7, 8],
    ],
  );
  assert.deepEqual(
    join([
      { xs: [0, 2], ys: [1, 3] },
      { xs: [1, 2, 5], ys: [10, 20, 50] },
    ]),
    [
      [0, 1, 2, 5],
      [1, undefined, 3, undefined],
      [undefined, 10, 20, 50],
    ],
  );
  assert.deepEqual(join([]), [[]]);
  // A NaN point (null) stays a gap, distinct from a missing one.
  assert.deepEqual(
    join([
      { xs: [0, 1], ys: [null, 1] },
      { xs: [1], ys: [2] },
    ]),
    [
      [0, 1],
      [null, 1],
      [undefined, 2],
    ],
  );
});

test("sortedBy: time order can differ from step order; x in seconds on the time axis", () => {
  const p = pts([1, 3, 5], [0.2, 0.3, 0.1], [200_000, 300_000, 100_000]);
  assert.deepEqual(sortedBy(p, "step"), { xs: [1, 3, 5], ys: [0.2, 0.3, 0.1] });
  assert.deepEqual(sortedBy(p, "time"), { xs: [100, 200, 300], ys: [0.1, 0.2, 0.3] });
});

test("positiveOnly: a log scale cannot draw 0 or negatives", () => {
  assert.deepEqual(positiveOnly([1, 0, -2, null, 0.5]), [1, null, null, null, 0.5]);
});

test("appendPoints: only steps after the held last step are added", () => {
  const held = pts([0, 1, 2], [1, 2, 3]);
  const grown = appendPoints(held, pts([2, 3, 4], [30, 4, null]));
  assert.deepEqual(grown.steps, [0, 1, 2, 3, 4]);
  assert.deepEqual(grown.values, [1, 2, 3, 4, null]);
  assert.deepEqual(grown.texts, [null, null, null, null, "NaN"]);
  assert.deepEqual(held.steps, [0, 1, 2], "the held curve is not changed in place");
});

test("zoomRange: whole steps on the step axis; the steps inside a time window on the time axis", () => {
  const curves: SeriesPoints[] = [pts([0, 10, 20, 30], [1, 1, 1, 1])];
  assert.deepEqual(zoomRange(curves, "step", 4.2, 17.5), { minStep: 4, maxStep: 18 });
  assert.deepEqual(zoomRange(curves, "time", 5, 25), { minStep: 10, maxStep: 20 });
  assert.equal(zoomRange(curves, "time", 11, 12), null);
  assert.deepEqual(extent(curves, "step"), [0, 30]);
  assert.equal(extent([], "step"), null);
});

test("keyZoom: + and - zoom around the middle, arrows pan inside the curve, 0/Escape reset", () => {
  const all: [number, number] = [0, 1000];
  assert.deepEqual(keyZoom("+", false, all, all, 1), { window: [250, 750] });
  assert.deepEqual(keyZoom("=", false, [250, 750], all, 1), { window: [375, 625] });
  assert.deepEqual(keyZoom("-", false, [375, 625], all, 1), { window: [250, 750] });
  // Zooming out past the whole curve is a reset; near an edge the window slides back inside.
  assert.equal(keyZoom("-", false, [250, 750], all, 1), "reset");
  assert.deepEqual(keyZoom("-", false, [0, 200], all, 1), { window: [0, 400] });
  assert.deepEqual(keyZoom("ArrowRight", false, [250, 750], all, 1), { window: [300, 800] });
  assert.deepEqual(keyZoom("ArrowLeft", true, [250, 750], all, 1), { window: [0, 500] });
  assert.deepEqual(keyZoom("ArrowRight", true, [600, 900], all, 1), { window: [700, 1000] });
  // Nothing to pan at an edge or on the whole curve, nothing finer than the smallest window.
  assert.equal(keyZoom("ArrowLeft", false, [0, 500], all, 1), null);
  assert.equal(keyZoom("ArrowRight", false, all, all, 1), null);
  assert.deepEqual(keyZoom("+", false, [10, 13], all, 1), { window: [10.75, 12.25] });
  assert.deepEqual(keyZoom("+", false, [10, 11.5], all, 1), { window: [10.25, 11.25] });
  assert.equal(keyZoom("+", false, [11, 12], all, 1), null);
  assert.equal(keyZoom("0", false, [11, 12], all, 1), "reset");
  assert.equal(keyZoom("Escape", false, [11, 12], all, 1), "reset");
  // Other keys (Tab, letters) are left to the page.
  assert.equal(keyZoom("Tab", false, [11, 12], all, 1), null);
  assert.equal(keyZoom("a", false, all, all, 1), null);
  // A single-step curve cannot zoom in.
  assert.equal(keyZoom("+", false, [5, 5], [5, 5], 1), null);
});

test("nonFiniteMarks: where the NaN and ±Infinity points are, on either axis", () => {
  const points: SeriesPoints = {
    steps: [0, 1, 2, 3, 4],
    times: [5000, 6000, 7000, 8000, 9000],
    values: [1, null, 2, null, null],
    texts: [null, "NaN", null, "Infinity", "-Infinity"],
  };
  assert.deepEqual(nonFiniteMarks(points, "step"), [
    { x: 1, kind: "nan" },
    { x: 3, kind: "posInf" },
    { x: 4, kind: "negInf" },
  ]);
  assert.deepEqual(
    nonFiniteMarks(points, "time").map((m) => m.x),
    [6, 8, 9],
  );
  assert.deepEqual(nonFiniteMarks(pts([0, 1], [1, 2]), "step"), []);
});
