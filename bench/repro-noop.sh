#!/usr/bin/env bash
# A no-op `lathe repro` on a generated 100-stage pipeline (every stage up to date, so Lathe parses
# lathe.yaml, reads params, stats/hashes every dep and out, and compares with lathe.lock), against
# references measured in the same run on the same tree: `git status` (git's own stat-and-compare
# of the working tree), bare `sha256sum` of every dep and out (hashing with no cache), and
# `node -e 0` (the floor of any node CLI). Goal (issue #4): under 1 s.
# Usage: bash bench/repro-noop.sh [stages] [runs]   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
stages="${1:-100}"
runs="${2:-10}"
node scripts/build.mjs --quiet

ws="$(mktemp -d)"
trap 'rm -rf "$ws"' EXIT
node - "$ws" "$stages" <<'JS'
const fs = require("fs");
const path = require("path");
const [ws, n] = [process.argv[2], Number(process.argv[3])];
fs.mkdirSync(path.join(ws, "src"));
fs.mkdirSync(path.join(ws, "data"));
fs.mkdirSync(path.join(ws, "out"));
// 1 MiB of raw data read by every tenth stage, a small script per stage.
fs.writeFileSync(path.join(ws, "data/raw.csv"), "x,y\n".padEnd(1 << 20, "1,2\n"));
const lines = ["stages:"];
const params = [];
for (let i = 0; i < n; i++) {
  fs.writeFileSync(path.join(ws, `src/s${i}.js`), `// stage ${i}\nrequire("fs").writeFileSync(process.argv[2], "s${i} " + Date.now());\n`);
  const deps = [`src/s${i}.js`, i === 0 || i % 10 === 0 ? "data/raw.csv" : `out/s${i - 1}.txt`];
  lines.push(
    `  s${i}:`,
    `    cmd: node src/s${i}.js out/s${i}.txt`,
    `    deps: [${deps.join(", ")}]`,
    `    params: [s${i}.lr]`,
    `    outs: [out/s${i}.txt]`,
  );
  params.push(`s${i}:`, `  lr: 0.${i}`);
}
fs.writeFileSync(path.join(ws, "lathe.yaml"), lines.join("\n") + "\n");
fs.writeFileSync(path.join(ws, "params.yaml"), params.join("\n") + "\n");
JS
lathe="node $PWD/bin/lathe.js"
(cd "$ws" && $lathe repro --jobs 2 >/dev/null)
# Every stage must be skipped for the run to be a no-op.
skipped="$(cd "$ws" && $lathe --json repro | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(r.stages.filter((s) => s.status === "skipped").length)')"
[ "$skipped" = "$stages" ] || { echo "expected $stages skipped stages, got $skipped" >&2; exit 1; }
(cd "$ws" && git init -q && git add -A && git -c user.name=b -c user.email=b@example.invalid commit -qm bench)

cd "$ws"
hyperfine --warmup 2 --runs "$runs" --export-json "$ws/result.json" \
  -n "lathe repro (no-op, $stages stages)" "$lathe repro >/dev/null" \
  -n "git status" "git status --porcelain >/dev/null" \
  -n "sha256sum of deps and outs" "sha256sum data/raw.csv src/*.js out/*.txt >/dev/null" \
  -n "node -e 0" "node -e 0"

node -e '
const r = require(process.argv[1]).results;
const ms = (x) => (x.median * 1000).toFixed(0);
const base = r[0].median;
for (const x of r) console.log(`${x.command.padEnd(34)} median ${ms(x).padStart(5)} ms  lathe/this ${(base / x.median).toFixed(1)}x`);
' "$ws/result.json"
