#!/usr/bin/env bash
# The whole benchmark suite with issue 7's parameters: relay throughput
# (loadgen, as fast as acknowledgements allow, then at 5,000 messages/s;
# both on SQLite, then on a private PostgreSQL, issue 12),
# 10,000 connections (connbench), routing with 5,000 agents (routebench),
# a cluster of three nodes beside one node and the center's failover with
# 10,000 waiting customers (clusterbench, on its own PostgreSQL and NATS),
# release sizes and the 2,000-message render (headless Chromium). Writes
# target/bench/*.json and target/bench/summary.md (each figure next to its
# target). It asserts no timing; it exits 1 when a step fails or a figure
# is missing. Every step is bounded in count and time (`timeout`).
#
#   scripts/bench.sh           the full suite (about 3 minutes on 2 cores, after the builds)
#   scripts/bench.sh --quick   short durations and small counts: checks that the suite runs
#
# Needs the release app build (dist/ and dist/widget/; `./x bench` builds
# it first) and builds the server and the benchmarks (`--profile server`).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=false
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

if $quick; then
  seconds=2 customers=10 agents=2 rate=500 connections=300 idle=2 route_agents=500 assignments=5000 messages=200
  waiting=300
else
  seconds=10 customers=50 agents=10 rate=5000 connections=10000 idle=10 route_agents=5000 assignments=100000 messages=2000
  waiting=10000
fi
STEP_LIMIT=600 # seconds any one step may take before it is stopped

out=target/bench
bin=target/server
mkdir -p "$out"
started_ms=$(($(date +%s%N) / 1000000))
failed=()

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

# run NAME COMMAND…: runs a bounded step; a failure is recorded, not fatal,
# so one broken step does not hide the other figures.
run() {
  local name="$1"
  shift
  step "$name: $*"
  if ! timeout --kill-after=10 "$STEP_LIMIT" "$@"; then
    echo "bench: step '$name' failed or timed out" >&2
    failed+=("$name")
  fi
}

for built in dist/index.html dist/widget/index.html; do
  if [ ! -f "$built" ]; then
    echo "bench: $built is missing: build the app first (./x bench does, or see build_app in ./x)" >&2
    exit 1
  fi
done

step "building the server and the benchmarks (cargo build --profile server)"
cargo build --profile server -p switchboard-server -p switchboard-bench || exit 1

run loadgen-max "$bin/loadgen" --customers "$customers" --agents "$agents" --seconds "$seconds" \
  --json "$out/loadgen-max.json"
run loadgen-5000 "$bin/loadgen" --customers "$customers" --agents "$agents" --rate "$rate" --seconds "$seconds" \
  --json "$out/loadgen-5000.json"
# The same two loadgen runs on a private PostgreSQL (scripts/postgres.sh,
# fsync on), stopped and removed however the suite ends.
pg_dir="$(mktemp -d /tmp/switchboard-pg.XXXXXX)"
trap 'scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
pg_url="$(scripts/postgres.sh start "$pg_dir" | sed -n 's/^url=//p')"
if [ -n "$pg_url" ]; then
  run loadgen-max-postgres "$bin/loadgen" --database "$pg_url" --customers "$customers" --agents "$agents" \
    --seconds "$seconds" --json "$out/loadgen-max-postgres.json"
  run loadgen-5000-postgres "$bin/loadgen" --database "$pg_url" --customers "$customers" --agents "$agents" \
    --rate "$rate" --seconds "$seconds" --json "$out/loadgen-5000-postgres.json"
  scripts/postgres.sh stop "$pg_dir"
else
  echo "bench: PostgreSQL did not start (see $pg_dir/server.log)" >&2
  failed+=(postgres)
fi
run clusterbench "$bin/clusterbench" --server "$bin/switchboard-server" --customers "$customers" \
  --agents "$agents" --seconds "$seconds" --clients "$waiting" --json "$out/clusterbench.json"
run connbench "$bin/connbench" --server "$bin/switchboard-server" --connections "$connections" \
  --idle-seconds "$idle" --json "$out/connbench.json"
run membench "$bin/membench" --server "$bin/switchboard-server" --settle-seconds 12 --json "$out/membench.json"
run routebench "$bin/routebench" --agents "$route_agents" --assignments "$assignments" --json "$out/routebench.json"
run sizes scripts/sizes.sh --json "$out/sizes.json"
run render env SWITCHBOARD_SERVER="$PWD/$bin/switchboard-server" \
  node e2e/bench/render.mjs --messages "$messages" --json "$out/render.json"

step "summary ($out/summary.md)"
summary_flags=(--dir "$out" --since "$started_ms")
$quick && summary_flags+=(--quick)
node scripts/bench-summary.mjs "${summary_flags[@]}" || failed+=(summary)

if [ "${#failed[@]}" -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
