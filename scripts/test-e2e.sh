#!/usr/bin/env bash
# The real-editor tests: setup (Debian packages, code-server 4.100.3) → build + package the .vsix →
# node:test over test/e2e/*.e2e.test.mjs, one file at a time (each launches code-server + Chromium).
# Every wait in the harness has its own timeout; the harness kills code-server's process group, the
# daemon and anything else left in its run folder on close and on exit. The whole node:test run is
# bounded by LATHE_E2E_TIMEOUT seconds (default 1200), after which it and its children are killed.
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$SECONDS
bash scripts/e2e-setup.sh
echo "test-e2e: setup took $((SECONDS - t0)) s"

t1=$SECONDS
node scripts/package.mjs >/dev/null
echo "test-e2e: build + package took $((SECONDS - t1)) s"

mkdir -p test-results/e2e
t2=$SECONDS
status=0
# GNU timeout runs the runner in its own process group and signals the whole group: the test-file
# processes get SIGTERM, on which the harness kills code-server, Chromium and the daemon.
timeout -k 20 "${LATHE_E2E_TIMEOUT:-1200}" \
  node --test --test-concurrency=1 --test-timeout=600000 test/e2e/*.e2e.test.mjs || status=$?
[ "$status" -eq 124 ] && echo "test-e2e: killed after ${LATHE_E2E_TIMEOUT:-1200} s" >&2
echo "test-e2e: tests took $((SECONDS - t2)) s (exit $status)"
exit "$status"
