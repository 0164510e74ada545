#!/usr/bin/env bash
# A private NATS server for the cluster's tests and demo, from Debian's
# `nats-server` package (installed when missing): core NATS only, on
# 127.0.0.1, on a free port, its pid, port and log in a directory.
#
#   scripts/nats.sh start [DIR]   start one (in DIR, or a new temporary directory);
#                                 prints `url=nats://…` and `dir=DIR`
#   scripts/nats.sh stop DIR      stop it
#   scripts/nats.sh restart DIR   stop it and start it again on the same port
#   scripts/nats.sh url DIR       print its URL
#
# Idempotent: `start DIR` on a running server prints its URL again; `stop`
# on a stopped or missing one succeeds.
set -euo pipefail

die() {
  echo "nats.sh: $*" >&2
  exit 1
}

ensure_installed() {
  if command -v nats-server >/dev/null 2>&1; then return; fi
  echo "nats.sh: installing Debian's nats-server package" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  command -v nats-server >/dev/null 2>&1 || die "no nats-server after installing the package"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' \
    2>/dev/null || echo $((20000 + RANDOM % 40000))
}

url_of() {
  [ -f "$1/port" ] || die "$1 holds no NATS server started by this script"
  echo "nats://127.0.0.1:$(cat "$1/port")"
}

running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

start() {
  ensure_installed
  local dir="${1:-}"
  [ -n "$dir" ] || dir="$(mktemp -d /tmp/switchboard-nats.XXXXXX)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if ! running "$dir"; then
    [ -f "$dir/port" ] || free_port >"$dir/port"
    setsid nats-server -a 127.0.0.1 -p "$(cat "$dir/port")" -l "$dir/nats.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/pid"
    # Ready when it accepts connections (bounded: 10 s).
    for _ in $(seq 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$dir/port")") 2>/dev/null; then break; fi
      running "$dir" || die "nats-server exited (see $dir/nats.log)"
      sleep 0.1
    done
  fi
  echo "url=$(url_of "$dir")"
  echo "dir=$dir"
}

stop() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  if running "$dir"; then
    local pid
    pid="$(cat "$dir/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
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
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
