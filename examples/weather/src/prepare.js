"use strict";
// Stage "prepare": split data/weather.csv by date into data/prepared/{train,test}.csv.
// Train: one city, the train years; test: the same city, the test year.
const fs = require("node:fs");
const { FEATURES, LABEL, readParams, readCsv, writeCsv } = require("./common");

const params = readParams().prepare || {};
const city = params.city ?? "Seattle";
const trainYears = new Set((params.train_years ?? [2012, 2013, 2014]).map(Number));
const testYear = Number(params.test_year ?? 2015);

const rows = readCsv("data/weather.csv");
const year = (r) => Number(r.date.slice(0, 4));
const inCity = rows.filter((r) => r.location === city);
const train = inCity.filter((r) => trainYears.has(year(r)));
const test = inCity.filter((r) => year(r) === testYear);
if (train.length === 0 || test.length === 0) {
  throw new Error(`empty split: city=${city} train=${train.length} test=${test.length}`);
}

const columns = ["date", ...FEATURES, LABEL];
fs.rmSync("data/prepared", { recursive: true, force: true });
writeCsv("data/prepared/train.csv", columns, train);
writeCsv("data/prepared/test.csv", columns, test);

console.log(`read ${rows.length} rows, ${inCity.length} for ${city}`);
console.log(`train: ${train.length} rows (${[...trainYears].join(", ")})`);
console.log(`test: ${test.length} rows (${testYear})`);
