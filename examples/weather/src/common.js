"use strict";
// Small helpers shared by the weather stages: params.yaml and a minimal CSV reader/writer.
// The data is simple (no quoted fields, no embedded commas), so a split-based reader is enough.
const fs = require("node:fs");
const path = require("node:path");
const YAML = require("yaml");

/** The feature columns, in model input order. */
const FEATURES = ["precipitation", "temp_max", "temp_min", "wind"];
const LABEL = "weather";

function readParams() {
  return YAML.parse(fs.readFileSync("params.yaml", "utf8")) || {};
}

/** Reads a CSV with a header row into an array of objects (string values). */
function readCsv(file) {
  const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) throw new Error(`${file}: empty CSV`);
  const header = lines[0].split(",").map((h) => h.trim());
  return lines.slice(1).map((line, i) => {
    const cells = line.split(",");
    if (cells.length !== header.length) {
      throw new Error(`${file}:${i + 2}: expected ${header.length} fields, got ${cells.length}`);
    }
    const row = {};
    header.forEach((h, j) => (row[h] = cells[j].trim()));
    return row;
  });
}

function writeCsv(file, columns, rows) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const lines = [columns.join(",")];
  for (const row of rows) lines.push(columns.map((c) => String(row[c])).join(","));
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

/** Feature matrix (array of 4-element number arrays) and label strings of prepared rows. */
function featuresAndLabels(rows) {
  const X = rows.map((r) =>
    FEATURES.map((f) => {
      const v = Number(r[f]);
      if (!Number.isFinite(v)) throw new Error(`not a number in column ${f}: ${r[f]}`);
      return v;
    }),
  );
  const y = rows.map((r) => r[LABEL]);
  return { X, y };
}

/** Rounds a metric for the JSON files (keeps diffs readable). */
function round(x, digits = 6) {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

module.exports = {
  FEATURES,
  LABEL,
  readParams,
  readCsv,
  writeCsv,
  writeJson,
  featuresAndLabels,
  round,
};
