#!/usr/bin/env bash
# A private PostgreSQL for tests and benchmarks, from Debian's `postgresql`
# package (installed when missing): a fresh cluster in a temporary directory,
# owned by and run as the `postgres` user (PostgreSQL refuses to run as
# root), listening on 127.0.0.1 only, on a free port, with its socket in the
# directory too; fsync stays on, so commits cost what they cost in production.
#
#   scripts/postgres.sh start [DIR]   start one (in DIR, or a new temporary directory);
#                                     prints `url=postgres://…` and `dir=DIR`
#   scripts/postgres.sh stop DIR      stop it (fast shutdown: connections are cut)
#   scripts/postgres.sh restart DIR   start it again on the same data and port
#   scripts/postgres.sh url DIR       print its URL
#
# Idempotent: `start DIR` on a running cluster prints its URL again; `stop`
# on a stopped or missing one succeeds. `stop` keeps DIR (restart reuses
# it); remove DIR to forget the data.
set -euo pipefail

BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
START_TIMEOUT=30 # seconds pg_ctl waits for the server to accept connections

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

as_postgres() { runuser -u postgres -- "$@"; }

ensure_installed() {
  if [ -x "$BIN/initdb" ]; then return; fi
  echo "postgres.sh: installing Debian's postgresql package" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  [ -x "$BIN/initdb" ] || die "no initdb in $BIN after installing postgresql (set PG_BIN)"
}

# A port nobody listens on now: from the kernel (bind to port 0) where
# python3 is there, else a random one (start tries another if it is taken).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' \
    2>/dev/null || echo $((20000 + RANDOM % 40000))
}

url_of() {
  local dir="$1"
  [ -f "$dir/port" ] || die "$dir holds no cluster started by this script"
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
}

running() { [ -f "$1/data/postmaster.pid" ] && as_postgres "$BIN/pg_ctl" status -D "$1/data" >/dev/null 2>&1; }

start() {
  ensure_installed
  local dir="${1:-}"
  if [ -z "$dir" ]; then
    dir="$(mktemp -d /tmp/switchboard-pg.XXXXXX)"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    # trust on 127.0.0.1 and the private socket only: the cluster lives for a
    # test run and listens on nothing else.
    as_postgres "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || die "initdb failed (see $dir/initdb.log)"
  fi
  if running "$dir"; then
    echo "url=$(url_of "$dir")"
    echo "dir=$dir"
    return
  fi
  # A cluster started before keeps its port (its URL must not change); a new
  # one tries up to 5 free ports, in case another process took the first.
  local attempts=1 port
  [ -f "$dir/port" ] || attempts=5
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    [ -f "$dir/port" ] || free_port >"$dir/port"
    port="$(cat "$dir/port")"
    if as_postgres "$BIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t "$START_TIMEOUT" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c synchronous_commit=on -c max_connections=200" \
      >/dev/null; then
      break
    fi
    [ "$attempt" -lt "$attempts" ] || die "the server did not start (see $dir/server.log)"
    rm -f "$dir/port"
  done
  echo "url=$(url_of "$dir")"
  echo "dir=$dir"
}

stop() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  if [ -d "$dir/data" ] && running "$dir"; then
    as_postgres "$BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t "$START_TIMEOUT" >/dev/null
  fi
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  restart)
    [ -n "${2:-}" ] || die "usage: $0 restart DIR"
    stop "$2"
    start "$2"
    ;;
  url) url_of "${2:?usage: $0 url DIR}" ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
