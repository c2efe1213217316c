#!/usr/bin/env bash
# Wall time of `lathe demo` (add, repro of 3 stages, register, deploy, 5 predictions, stop)
# against the floor: the same three stage scripts run directly with node, no Lathe at all.
# Usage: bash bench/demo.sh [runs]   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
node scripts/build.mjs --quiet

raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
cp -r examples/weather "$raw/weather"
ln -s "$PWD/node_modules" "$raw/weather/node_modules"
scripts="cd $raw/weather && rm -rf data/prepared models metrics && node src/prepare.js >/dev/null && node src/train.js >/dev/null && node src/evaluate.js >/dev/null"

hyperfine --warmup 1 --runs "$runs" --export-json "$raw/result.json" \
  -n "lathe demo" "node bin/lathe.js demo >/dev/null" \
  -n "stage scripts alone" "$scripts"

node -e '
const r = require(process.argv[1]).results;
const med = (x) => x.median * 1000;
console.log(`lathe demo median ${med(r[0]).toFixed(0)} ms; stage scripts alone ${med(r[1]).toFixed(0)} ms; ratio ${(r[0].median / r[1].median).toFixed(2)}x`);
' "$raw/result.json"
