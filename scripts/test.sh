#!/usr/bin/env bash
# Every test: build, the node:test suites under test/daemon and test/extension, then the real-editor tests.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs --quiet
node --import tsx --test --test-concurrency=1 test/daemon/*.test.ts test/extension/*.test.ts
if [ "${LATHE_SKIP_E2E:-}" = "1" ]; then
  echo "LATHE_SKIP_E2E=1: editor tests not run"
else
  bash scripts/test-e2e.sh
fi
