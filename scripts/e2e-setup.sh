#!/usr/bin/env bash
# Idempotent setup for the real-editor tests (see /work/shared/e2e.md):
#   - Debian packages: chromium (driven by playwright-core), ripgrep and libkrb5-dev (needed only to
#     install code-server); `apt-get update` runs only when something is missing;
#   - code-server 4.100.3 (VS Code 1.100.3) into test/e2e/code-server/node_modules via `npm ci`.
# Nothing is written to $HOME: code-server's config and XDG folders live in test/e2e/code-server/tmp.
set -euo pipefail
cd "$(dirname "$0")/.."

CS_DIR=test/e2e/code-server
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
CS_VERSION=4.100.3
# @vscode/ripgrep as pinned by code-server 4.100.3's lib/vscode shrinkwrap: re-check when bumping.
RG_NPM_VERSION=1.15.11
RG_TAG=v13.0.0-10

mkdir -p "$CS_DIR/tmp"
export XDG_CONFIG_HOME="$PWD/$CS_DIR/tmp/xdg-config" XDG_DATA_HOME="$PWD/$CS_DIR/tmp/xdg-data" XDG_CACHE_HOME="$PWD/$CS_DIR/tmp/xdg-cache"

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
[ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "e2e-setup: installing Debian packages: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "e2e-setup: need root to install ${need[*]} (or install them yourself: apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -x "$CS_BIN" ] && "$CS_BIN" --config "$CS_DIR/tmp/config.yaml" --version 2>/dev/null | grep -q "^$CS_VERSION "; then
  echo "e2e-setup: code-server $CS_VERSION already installed"
  exit 0
fi

echo "e2e-setup: installing code-server $CS_VERSION into $CS_DIR"
export TMPDIR="$PWD/$CS_DIR/tmp"
# @vscode/ripgrep's postinstall downloads rg from GitHub, which is out of reach: seed its cache
# (kept in os.tmpdir()) with Debian's rg instead.
mkdir -p "$TMPDIR/vscode-ripgrep-cache-$RG_NPM_VERSION"
tar czf "$TMPDIR/vscode-ripgrep-cache-$RG_NPM_VERSION/ripgrep-$RG_TAG-x86_64-unknown-linux-musl.tar.gz" \
  -C "$(dirname "$(command -v rg)")" rg
# code-server's postinstall refuses root without unsafe-perm; node-pty's postinstall runs
# `npx node-gyp`, which cancels without a TTY unless npx may say yes by itself.
export npm_config_unsafe_perm=true npm_config_yes=true
(cd "$CS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
version="$("$CS_BIN" --config "$TMPDIR/config.yaml" --version | tail -n 1)"
echo "e2e-setup: $version"
echo "$version" | grep -q "^$CS_VERSION " || { echo "e2e-setup: expected code-server $CS_VERSION" >&2; exit 1; }
