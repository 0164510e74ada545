#!/usr/bin/env bash
# Installs every tool Switchboard's build and tests need, skipping what is
# already present at the right version. Idempotent: a warm machine spends
# seconds here, a fresh one about twenty minutes (mostly `cargo install`).
#
# Versions follow ../shared/notes/toolchain.md (verified on these machines).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
WASM_PACK_VERSION="0.15.1"
# wasm-opt comes from npm's `binaryen` (tools/package.json): Debian's binaryen
# 108 breaks modules with reference types (see docs/decisions.md).
BINARYEN_VERSION=132
TOOLS_DIR="$here/tools"
PLAYWRIGHT_DIR="$here/e2e"
# The end-to-end journeys run under Node.js (its built-in test runner and
# ES modules; playwright-core 1.x needs Node 18 or newer) and install
# playwright-core with npm (`npm ci`, npm 7 or newer for lockfile v2/v3).
# Debian 12 ships Node 18 and npm 9; Debian 13 ships Node 20 and npm 9.
NODE_MIN_MAJOR=18
NPM_MIN_MAJOR=7

log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly,
# otherwise the generated JS glue does not fit the compiled wasm.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$here/Cargo.lock"
}

have_version() { # command, expected substring
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q -- "$2"
}

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

missing_debs=()
command -v chromium >/dev/null 2>&1 || missing_debs+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing_debs+=(chromium-driver)
major_version() { # command: the first number of `command --version`
  "$1" --version 2>/dev/null | grep -o '[0-9]\+' | head -n1
}
if ! command -v node >/dev/null 2>&1; then
  missing_debs+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing_debs+=(npm)
fi
# PostgreSQL for the second run of the server tests (scripts/postgres.sh
# starts a private cluster from these binaries; the package's own cluster
# is not used).
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing_debs+=(postgresql)
# NATS for the cluster's tests and demo (scripts/nats.sh starts a private
# server from it on 127.0.0.1; the package's own service is not used).
command -v nats-server >/dev/null 2>&1 || missing_debs+=(nats-server)
if [ "${#missing_debs[@]}" -gt 0 ]; then
  apt_install "${missing_debs[@]}"
fi
node_major="$(major_version node)"
npm_major="$(major_version npm)"
if [ -z "$node_major" ] || [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then
  echo "install-tools: Node.js $NODE_MIN_MAJOR or newer is needed for the end-to-end tests; found: $(node --version 2>&1)" >&2
  exit 1
fi
if [ -z "$npm_major" ] || [ "$npm_major" -lt "$NPM_MIN_MAJOR" ]; then
  echo "install-tools: npm $NPM_MIN_MAJOR or newer is needed for \`npm ci\`; found: $(npm --version 2>&1)" >&2
  exit 1
fi
log "Node.js $(node --version), npm $(npm --version)"

if ! have_version trunk "$TRUNK_VERSION"; then
  log "cargo install trunk@$TRUNK_VERSION (about 10 minutes on 2 cores)"
  cargo install "trunk@$TRUNK_VERSION" --locked
fi

bindgen_version="$(wasm_bindgen_version)"
if [ -z "$bindgen_version" ]; then
  echo "install-tools: cannot read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
if ! have_version wasm-bindgen "$bindgen_version" || ! have_version wasm-bindgen-test-runner "$bindgen_version"; then
  # Without --locked on purpose: with it, resolution fails on a registry gap.
  log "cargo install wasm-bindgen-cli@$bindgen_version"
  cargo install "wasm-bindgen-cli@$bindgen_version" --force
fi

if ! have_version wasm-pack "$WASM_PACK_VERSION"; then
  log "cargo install wasm-pack@$WASM_PACK_VERSION"
  cargo install "wasm-pack@$WASM_PACK_VERSION"
fi

# playwright-core drives Debian's Chromium for the end-to-end journeys; it
# never downloads a browser of its own.
if [ -f "$PLAYWRIGHT_DIR/package.json" ] && { [ ! -d "$PLAYWRIGHT_DIR/node_modules/playwright-core" ] ||
  [ ! -d "$PLAYWRIGHT_DIR/node_modules/axe-core" ]; }; then
  log "npm ci (playwright-core and axe-core for the end-to-end tests)"
  (cd "$PLAYWRIGHT_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

# Build tools from npm (tools/package.json): binaryen's wasm-opt for trunk
# (`x` puts tools/node_modules/.bin first on PATH; Trunk.toml names
# version_$BINARYEN_VERSION, so trunk refuses any other) and terser
# (tools/minify.mjs).
if ! "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION\b" ||
  [ ! -f "$TOOLS_DIR/node_modules/terser/package.json" ]; then
  log "npm ci (tools/: binaryen $BINARYEN_VERSION, terser)"
  (cd "$TOOLS_DIR" && npm ci --no-audit --no-fund --silent)
fi

log "tools ready"
