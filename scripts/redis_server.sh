#!/usr/bin/env bash
# Throw-away Redis server for development, tests and `make run-cluster` (Debian's redis-server):
# bound to 127.0.0.1, password from var/secrets/redis_password (common.settings.redis_password),
# no persistence (the hub's pub/sub and Rasa's locks need none).
#
#   scripts/redis_server.sh start  [DATA_DIR] [PORT]   # idempotent; prints REDIS_URL (with the password)
#   scripts/redis_server.sh stop   [DATA_DIR]          # idempotent
#   scripts/redis_server.sh status [DATA_DIR]
#   scripts/redis_server.sh url    [DATA_DIR] [PORT]
#
# Defaults: DATA_DIR=<var>/redis, PORT=56379 (env REDIS_DATA_DIR / REDIS_PORT also work).
# The password is written to a 0600 config file, never onto the process list.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR_DIR="${CSA_VAR_DIR:-$ROOT/var}"
CMD="${1:-}"
DATA_DIR="${2:-${REDIS_DATA_DIR:-$VAR_DIR/redis}}"
PORT="${3:-${REDIS_PORT:-56379}}"
PY="$ROOT/.venv/bin/python"

die() { echo "redis_server: $*" >&2; exit 1; }
command -v redis-server >/dev/null || die "redis-server not installed (scripts/system_packages.sh)"

password() { PYTHONPATH="$ROOT" "$PY" -c 'from common.settings import redis_password; print(redis_password())'; }
url() { echo "redis://:$(password)@127.0.0.1:${PORT}/0"; }
pid() { [[ -f "$DATA_DIR/redis.pid" ]] && cat "$DATA_DIR/redis.pid"; }
is_running() { local p; p="$(pid 2>/dev/null)" && [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null \
  && grep -q redis-server "/proc/$p/cmdline" 2>/dev/null; }

start() {
  mkdir -p "$DATA_DIR"; chmod 700 "$DATA_DIR"
  DATA_DIR="$(cd "$DATA_DIR" && pwd)"
  if is_running; then url; return 0; fi
  local conf="$DATA_DIR/redis.conf"
  ( umask 077
    cat >"$conf" <<CONF
bind 127.0.0.1
protected-mode yes
port $PORT
requirepass $(password)
daemonize yes
pidfile $DATA_DIR/redis.pid
logfile $DATA_DIR/redis.log
dir $DATA_DIR
save ""
appendonly no
CONF
  )
  redis-server "$conf" >/dev/null || die "redis-server did not start; see $DATA_DIR/redis.log"
  for _ in $(seq 1 50); do
    if REDISCLI_AUTH="$(password)" redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
      url; return 0
    fi
    sleep 0.1
  done
  die "redis-server does not answer on 127.0.0.1:$PORT; see $DATA_DIR/redis.log"
}

stop() {
  is_running || return 0
  local p; p="$(pid)"
  kill -TERM "$p"
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  die "redis-server (pid $p) did not stop"
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then echo "running (pid $(pid))"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  *) die "usage: $0 start|stop|status|url [DATA_DIR] [PORT]" ;;
esac
