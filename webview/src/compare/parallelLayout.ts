/**
 * Parallel coordinates layout, pure: one vertical axis per param and one for the chosen metric;
 * each run a polyline across them. Numeric axes scale linearly between their min and max;
 * anything else is categorical (values spread evenly, sorted). Missing values are gaps.
 */
import { formatTick } from "./format";

export interface AxisInput {
  key: string;
  values: (string | null)[];
}

export interface AxisLayout {
  key: string;
  x: number;
  numeric: boolean;
  ticks: { y: number; label: string }[];
}

export interface ParallelLayout {
  axes: AxisLayout[];
  /** Per run, per axis: the y of its value, or null. */
  lines: (number | null)[][];
}

export function parallelLayout(
  inputs: AxisInput[],
  runCount: number,
  size: { width: number; height: number; margin: number },
): ParallelLayout {
  const { width, height, margin } = size;
  const top = margin;
  const bottom = height - margin;
  const span = inputs.length > 1 ? (width - 2 * margin) / (inputs.length - 1) : 0;
  const lines: (number | null)[][] = Array.from({ length: runCount }, () => []);
  const axes = inputs.map((input, a) => {
    const x = inputs.length > 1 ? margin + a * span : width / 2;
    const present = input.values.filter((v): v is string => v !== null);
    const numeric =
      present.length > 0 && present.every((v) => v.trim() !== "" && Number.isFinite(Number(v)));
    let place: (v: string) => number;
    let ticks: { y: number; label: string }[];
    if (numeric) {
      const nums = present.map(Number);
      const min = Math.min(...nums);
      const max = Math.max(...nums);
      const scale = (n: number) =>
        max === min ? (top + bottom) / 2 : bottom - ((n - min) / (max - min)) * (bottom - top);
      place = (v) => scale(Number(v));
      ticks = (max === min ? [min] : [min, (min + max) / 2, max]).map((n) => ({
        y: scale(n),
        label: formatTick(n),
      }));
    } else {
      const categories = [...new Set(present)].sort();
      const at = (i: number) =>
        categories.length === 1
          ? (top + bottom) / 2
          : bottom - (i / (categories.length - 1)) * (bottom - top);
      place = (v) => at(categories.indexOf(v));
      ticks = categories.map((c, i) => ({ y: at(i), label: c }));
    }
    input.values.forEach((v, r) => {
      if (r < runCount) {
        lines[r]![a] = v === null ? null : place(v);
      }
    });
    return { key: input.key, x, numeric, ticks };
  });
  return { axes, lines };
}
