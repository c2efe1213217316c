#!/usr/bin/env bash
# Hashing speed: `lathe hash` on a 256 MiB file against `sha256sum` and `git hash-object` (in a
# SHA-256 repository, so all three compute SHA-256 over the same bytes). The file is read from
# the page cache after the warm-up, so this measures hashing, not the disk.
# Usage: bash bench/hash.sh [size in MiB, default 256]. Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib="${1:-256}"
command -v hyperfine >/dev/null || { echo "bench/hash.sh: hyperfine is missing (apt-get install -y hyperfine)" >&2; exit 2; }
[ -f dist/lathe.js ] || node scripts/build.mjs --quiet

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$work" init -q --object-format=sha256
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$work/data.bin"
lathe="node $PWD/bin/lathe.js"

# The ids must agree before their speed means anything.
ours="$($lathe hash "$work/data.bin")"
theirs="$(git -C "$work" hash-object data.bin)"
if [ "$ours" != "$theirs" ]; then
  echo "bench/hash.sh: lathe hash gave $ours but git hash-object gave $theirs" >&2
  exit 1
fi

hyperfine --warmup 1 --runs 7 --export-json "$work/result.json" \
  -n "lathe hash" "$lathe hash $work/data.bin" \
  -n "sha256sum" "sha256sum $work/data.bin" \
  -n "git hash-object" "git -C $work hash-object data.bin"

# Wall-clock medians move with the load on shared cores; user CPU time moves much less.
node -e '
const r = require(process.argv[1]).results;
const size = Number(process.argv[2]);
const lathe = r.find((x) => x.command === "lathe hash");
console.log(`\n${size} MiB file: median wall time, MiB/s, mean user CPU; ratio = lathe / this`);
for (const x of r) {
  const ms = (x.median * 1000).toFixed(0).padStart(6);
  const mibs = (size / x.median).toFixed(0).padStart(5);
  const user = (x.user * 1000).toFixed(0).padStart(6);
  const ratio = (lathe.median / x.median).toFixed(2);
  console.log(`  ${x.command.padEnd(16)} ${ms} ms ${mibs} MiB/s ${user} ms user  ratio ${ratio}`);
}
' "$work/result.json" "$size_mib"
