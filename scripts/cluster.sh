#!/usr/bin/env bash
# Three Switchboard nodes of one instance-domain on this machine: a private
# PostgreSQL (scripts/postgres.sh) and NATS server (scripts/nats.sh), and
# nodes on 127.0.0.1:8081, :8082 and :8083 with the demo configuration
# plus `[storage] url` and `[cluster]` (docs/cluster.md).
#
#   scripts/cluster.sh up [DIR]     start everything (state in DIR, default data/cluster)
#   scripts/cluster.sh down [DIR]   stop the nodes, NATS and PostgreSQL (DIR keeps the data)
#
# SERVER names the server binary (default target/server/switchboard-server,
# else target/debug/switchboard-server); STATIC_DIR the built apps (dist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

NODES=(1 2 3)
port_of() { echo $((8080 + $1)); }

server_binary() {
  if [ -n "${SERVER:-}" ]; then echo "$SERVER"; return; fi
  for candidate in target/server/switchboard-server target/debug/switchboard-server; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  die "no server binary: build one (cargo build -p switchboard-server) or set SERVER"
}

up() {
  local dir="${1:-data/cluster}" server static_dir="${STATIC_DIR:-dist}"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  server="$(server_binary)"
  local pg_url nats_url
  pg_url="$(scripts/postgres.sh start "$dir/postgres" | sed -n 's/^url=//p')"
  nats_url="$(scripts/nats.sh start "$dir/nats" | sed -n 's/^url=//p')"
  [ -n "$pg_url" ] && [ -n "$nats_url" ] || die "PostgreSQL or NATS did not start (see $dir)"
  for n in "${NODES[@]}"; do
    local port config="$dir/node$n.toml"
    port="$(port_of "$n")"
    if [ -f "$dir/node$n.pid" ] && kill -0 "$(cat "$dir/node$n.pid")" 2>/dev/null; then continue; fi
    {
      cat config/demo.toml
      printf '\n[storage]\nurl = "%s"\n\n[cluster]\nnats_url = "%s"\nnode_name = "node%s"\n' "$pg_url" "$nats_url" "$n"
    } >"$config"
    setsid "$server" serve --config "$config" --listen "127.0.0.1:$port" --static-dir "$static_dir" \
      >"$dir/node$n.out" 2>"$dir/node$n.log" </dev/null &
    echo $! >"$dir/node$n.pid"
  done
  for n in "${NODES[@]}"; do
    # Ready when it prints its address (bounded: 30 s).
    for _ in $(seq 300); do
      grep -q '^listening on' "$dir/node$n.out" 2>/dev/null && break
      kill -0 "$(cat "$dir/node$n.pid")" 2>/dev/null || die "node$n exited (see $dir/node$n.log)"
      sleep 0.1
    done
    grep -q '^listening on' "$dir/node$n.out" || die "node$n did not start in 30 s (see $dir/node$n.log)"
  done
  cat <<MSG
PostgreSQL: $pg_url
NATS:       $nats_url
node1:      http://127.0.0.1:$(port_of 1)   (log: $dir/node1.log)
node2:      http://127.0.0.1:$(port_of 2)   (log: $dir/node2.log)
node3:      http://127.0.0.1:$(port_of 3)   (log: $dir/node3.log)
Which node is the center: curl -s http://127.0.0.1:8081/readyz
The desktop, the widget (/demo/shop.html) and the wallboard (/supervisor/) work against any node.
Stop with: scripts/cluster.sh down $dir
MSG
}

down() {
  local dir="${1:-data/cluster}"
  [ -d "$dir" ] || return 0
  for n in "${NODES[@]}"; do
    if [ -f "$dir/node$n.pid" ]; then
      local pid
      pid="$(cat "$dir/node$n.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/node$n.pid"
    fi
  done
  scripts/nats.sh stop "$dir/nats" || true
  scripts/postgres.sh stop "$dir/postgres" || true
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down "${2:-}" ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
