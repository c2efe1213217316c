/** Metrics and plots tables read with csv-parse (#3, the quoted-cell FIXME of #2), whole and in pieces. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  readMetricsFile,
  readPlotSeries,
  recordReader,
  TableReader,
} from "../../daemon/src/pipeline/metrics";
import { removeDir, tempDir } from "../helpers";
import { writeFiles } from "./pipeline-fixtures";

const pt = (key: string, step: number, value: number | null, text: string | null = null) => ({
  key,
  value,
  text,
  step,
});

test("quoted cells with commas, quotes and line breaks do not shift the columns after them", async () => {
  const root = await tempDir("lathe-tables-");
  writeFiles(root, {
    "h.csv": 'step,"note, free text",loss\n0,"a, b",1.5\n1,"say ""hi""\nthen go",0.5\n2,,inf\n',
  });
  assert.deepEqual(readPlotSeries(join(root, "h.csv")), [
    pt("loss", 0, 1.5),
    pt("loss", 1, 0.5),
    pt("loss", 2, null, "Infinity"),
  ]);
  await removeDir(root);
});

test("TSV tables, an epoch column as the step, CRLF line ends and a BOM", async () => {
  const root = await tempDir("lathe-tables-");
  writeFiles(root, {
    "h.tsv": "\ufeffepoch\tacc\tval acc\r\n3\t0.5\tNaN\r\n-1\t0.25\t-inf\r\n",
  });
  assert.deepEqual(readPlotSeries(join(root, "h.tsv")), [
    pt("acc", 3, 0.5),
    pt("val acc", 3, null, "NaN"),
    pt("acc", -1, 0.25),
    pt("val acc", -1, null, "-Infinity"),
  ]);
  await removeDir(root);
});

test("a metrics table without a step column logs each row at its index; a plot without one is skipped", async () => {
  const root = await tempDir("lathe-tables-");
  writeFiles(root, { "m.csv": "auc,f1\n0.9,0.8\n0.95,0.85\n", "roc.csv": "fpr,tpr\n0,0\n1,1\n" });
  assert.deepEqual(readMetricsFile(join(root, "m.csv")), [
    pt("auc", 0, 0.9),
    pt("f1", 0, 0.8),
    pt("auc", 1, 0.95),
    pt("f1", 1, 0.85),
  ]);
  assert.deepEqual(readPlotSeries(join(root, "roc.csv")), []);
  await removeDir(root);
});

test("a metrics JSON with a top-level step puts its values at that step, as dvclive writes it", async () => {
  const root = await tempDir("lathe-tables-");
  writeFiles(root, { "m.json": '{"step": 12, "loss": 0.5, "eval": {"acc": 0.75}}' });
  assert.deepEqual(readMetricsFile(join(root, "m.json")), [
    pt("loss", 12, 0.5),
    pt("eval.acc", 12, 0.75),
  ]);
  await removeDir(root);
});

test("pieces split anywhere give the same points as the whole table, each row once", () => {
  const text = 'step,note,loss\n0,"x, y",1\n1,"two\nlines",2\n2,z,3\n3,w,4';
  const whole = new TableReader(",", "skip");
  const expected = [...whole.push(text), ...whole.end()];
  assert.equal(expected.length, 4);
  for (let size = 1; size <= 7; size++) {
    const reader = new TableReader(",", "skip");
    const got = [];
    for (let i = 0; i < text.length; i += size) {
      got.push(...reader.push(text.slice(i, i + size)));
    }
    got.push(...reader.end());
    assert.deepEqual(got, expected, `pieces of ${size}`);
  }
});

test("a row is not read before its line ends, nor while a quoted cell is open", () => {
  const reader = new TableReader(",", "skip");
  assert.deepEqual(reader.push("step,loss\n0,1"), []);
  assert.deepEqual(reader.push("\n1,"), [pt("loss", 0, 1)]);
  assert.deepEqual(reader.push('"2\n'), []);
  assert.deepEqual(reader.push('"\n'), [pt("loss", 1, 2)]);
});

test("a quote never closed is an error at the end of the table", () => {
  const reader = new TableReader(",", "skip");
  reader.push('step,loss\n0,"1\n');
  assert.throws(() => reader.end(), /Quote Not Closed/i);
});

test("a JSON Lines metrics file: one object per line, at its step or epoch, else at its index", async () => {
  const root = await tempDir("lathe-tables-");
  writeFiles(root, {
    // Python's json.dumps writes NaN and Infinity bare; a blank line and CRLF are fine.
    "m.jsonl":
      '\ufeff{"step": 3, "loss": 0.5, "eval": {"acc": 0.75}, "note": "x"}\r\n\n{"step": 4, "loss": NaN, "epoch": 1}\n{"step": 4.5, "loss": 1}\n{"step": 5, "loss": -Infinity}',
    "e.jsonl": '{"epoch": 2, "acc": 0.1}\n',
    "i.jsonl": '{"auc": 0.9}\n{"auc": 0.95}\n',
  });
  assert.deepEqual(readMetricsFile(join(root, "m.jsonl")), [
    pt("loss", 3, 0.5),
    pt("eval.acc", 3, 0.75),
    pt("loss", 4, null, "NaN"),
    pt("epoch", 4, 1),
    pt("loss", 5, null, "-Infinity"),
  ]);
  assert.deepEqual(readMetricsFile(join(root, "e.jsonl")), [pt("acc", 2, 0.1)]);
  assert.deepEqual(readMetricsFile(join(root, "i.jsonl")), [pt("auc", 0, 0.9), pt("auc", 1, 0.95)]);
  assert.deepEqual(readPlotSeries(join(root, "i.jsonl")), [], "a plot needs a step");
  assert.deepEqual(readPlotSeries(join(root, "e.jsonl")), [pt("acc", 2, 0.1)]);
  await removeDir(root);
});

test("JSON Lines in pieces: a line is read at its line break; a bad line names its number", () => {
  const text = '{"step": 0, "a": 1}\n{"step": 1,\n"a": 2}\n';
  const whole = recordReader("h.jsonl", "skip")!;
  assert.throws(() => whole.push(text), /line 2: not JSON/);

  const good = '{"step": 0, "a": 1}\n{"step": 1, "a": "two"}\n[1, 2]\n';
  const reader = recordReader("h.jsonl", "skip")!;
  assert.deepEqual(reader.push(good.slice(0, 10)), []);
  assert.deepEqual(reader.push(good.slice(10, 21)), [pt("a", 0, 1)]);
  assert.throws(() => reader.push(good.slice(21)), /line 3: not a JSON object/);
});
