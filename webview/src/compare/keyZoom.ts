/**
 * The keyboard's zoom on a focused chart, pure (no DOM): + and - zoom in and out around the
 * window's middle, the arrow keys pan, 0 and Escape go back to the whole curve. The chart applies
 * a new window as a drag would (uPlot's setScale), so finer points are fetched the same way.
 * Unit-tested in test/extension/webview-series.test.ts.
 */

/** What a key does to the x window: a new [min, max], back to the whole curve, or nothing. */
export type KeyZoom = { window: [number, number] } | "reset" | null;

/** A key zooms by this factor; an arrow pans by this share of the window (Shift: a whole one). */
const ZOOM_FACTOR = 2;
const PAN_SHARE = 0.1;

/**
 * The window after `key` on a chart showing `current` of the curves' whole extent `all`. A
 * window never leaves `all` nor gets narrower than `minWidth` (a step apart on the step axis);
 * zooming out to all of it is "reset".
 */
export function keyZoom(
  key: string,
  shift: boolean,
  current: [number, number],
  all: [number, number],
  minWidth: number,
): KeyZoom {
  const [min, max] = current;
  const width = max - min;
  const whole = all[1] - all[0];
  switch (key) {
    case "0":
    case "Escape":
      return "reset";
    case "+":
    case "=": {
      const next = Math.max(width / ZOOM_FACTOR, minWidth);
      if (next >= width || whole <= minWidth) {
        return null;
      }
      const middle = (min + max) / 2;
      return { window: clamp([middle - next / 2, middle + next / 2], all) };
    }
    case "-":
    case "_": {
      const next = width * ZOOM_FACTOR;
      if (next >= whole) {
        return "reset";
      }
      const middle = (min + max) / 2;
      return { window: clamp([middle - next / 2, middle + next / 2], all) };
    }
    case "ArrowLeft":
    case "ArrowRight": {
      if (width >= whole) {
        return null;
      }
      const by = (shift ? 1 : PAN_SHARE) * width * (key === "ArrowLeft" ? -1 : 1);
      const moved = clamp([min + by, max + by], all);
      return moved[0] === min && moved[1] === max ? null : { window: moved };
    }
    default:
      return null;
  }
}

/** Slides a window inside `all`, keeping its width (cut to `all` when wider). */
function clamp([min, max]: [number, number], all: [number, number]): [number, number] {
  const width = Math.min(max - min, all[1] - all[0]);
  if (min < all[0]) {
    return [all[0], all[0] + width];
  }
  if (max > all[1]) {
    return [all[1] - width, all[1]];
  }
  return [min, max];
}
