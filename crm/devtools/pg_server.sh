#!/usr/bin/env bash
# Throw-away PostgreSQL server for development and tests (loopback only, trust auth).
#
#   crm/devtools/pg_server.sh start  [DATA_DIR] [PORT]   # idempotent; prints the SQLAlchemy URL
#   crm/devtools/pg_server.sh stop   [DATA_DIR]          # idempotent
#   crm/devtools/pg_server.sh status [DATA_DIR]
#   crm/devtools/pg_server.sh url    [DATA_DIR] [PORT]
#
# Defaults: DATA_DIR=<repo>/var/pgdata, PORT=55432 (env PG_DATA_DIR / PG_PORT also work).
# Uses Debian's /usr/lib/postgresql/<version>/bin (apt-get install postgresql). When run as root
# the server runs as the "postgres" system user. Never use this server for real data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CMD="${1:-}"
DATA_DIR="${2:-${PG_DATA_DIR:-$ROOT/var/pgdata}}"
PORT="${3:-${PG_PORT:-55432}}"
SOCKET_DIR="/tmp"

die() { echo "pg_server: $*" >&2; exit 1; }

find_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] || die "PostgreSQL not installed (apt-get install -y postgresql)"
  echo "$dir"
}

as_pg() {  # run a command as the postgres user when we are root, else as ourselves
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() { echo "postgresql+psycopg://postgres@127.0.0.1:${PORT}/postgres"; }

is_running() { [[ -f "$DATA_DIR/PG_VERSION" ]] && as_pg "$BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1; }

start() {
  mkdir -p "$DATA_DIR"
  DATA_DIR="$(cd "$DATA_DIR" && pwd)"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres:postgres "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    as_pg test -w "$DATA_DIR" || die "user postgres cannot write $DATA_DIR (choose a DATA_DIR it can reach, e.g. /tmp/pgdata)"
  fi
  if is_running; then url; return 0; fi
  if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
    as_pg "$BIN/initdb" -D "$DATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
      || die "initdb failed for $DATA_DIR"
  fi
  as_pg "$BIN/pg_ctl" -D "$DATA_DIR" -l "$DATA_DIR/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $PORT -k $SOCKET_DIR -c fsync=off" start >/dev/null \
    || die "server did not start; see $DATA_DIR/server.log"
  url
}

stop() {
  if [[ ! -f "$DATA_DIR/PG_VERSION" ]] || ! is_running; then return 0; fi
  as_pg "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w stop >/dev/null
}

BIN="$(find_bin)"
case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then echo "running: $(url)"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  *) die "usage: $0 start|stop|status|url [DATA_DIR] [PORT]" ;;
esac
