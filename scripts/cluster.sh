#!/usr/bin/env bash
# The scale-out topology on loopback, as processes (issue 19; Docker cannot run here):
# PostgreSQL (crm/devtools/pg_server.sh) for the CRM and Rasa's trackers, Redis
# (scripts/redis_server.sh) for Rasa's lock store and the gateways' shared hub, 2 action servers,
# 2 Rasa servers, 2 gateways, the KB worker, and HAProxy in front of the gateways, the Rasa servers
# and the action servers, all under supervisord (ops/supervise.py, as scripts/services.sh).
# Usage: scripts/cluster.sh MODEL_PATH        (foreground; `make run-cluster` uses this)
# Env: CLUSTER_BASE (default 8000): the gateways' balancer listens on BASE; the gateways on
#      BASE+1, BASE+2; HAProxy's health on BASE+404. Rasa: balancer RASA_PORT (5005), servers
#      RASA_PORT+6, +7; actions: balancer ACTION_SERVER_PORT (5055), servers +6, +7; worker
#      WORKER_PORT (5070); PG_PORT (55432), REDIS_PORT (56379); LOG_DIR, RUN_DIR.
# Ctrl-C stops every service; PostgreSQL and Redis too when this script started them.
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:?usage: cluster.sh MODEL_PATH}"
root="$PWD"
py="$root/.venv/bin/python"
var_dir="${CSA_VAR_DIR:-$root/var}"
log_dir="${LOG_DIR:-$var_dir/log/cluster}"
run_dir="${RUN_DIR:-$var_dir/run/cluster}"
mkdir -p "$log_dir" "$run_dir"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS="ignore::DeprecationWarning"
command -v haproxy >/dev/null || { echo "error: haproxy not installed (scripts/system_packages.sh)" >&2; exit 1; }

base="${CLUSTER_BASE:-8000}"
gw_lb=$base; gw1=$((base + 1)); gw2=$((base + 2)); lb_health=$((base + 404))
rasa_lb="${RASA_PORT:-5005}"; rasa1=$((rasa_lb + 6)); rasa2=$((rasa_lb + 7))
act_lb="${ACTION_SERVER_PORT:-5055}"; act1=$((act_lb + 6)); act2=$((act_lb + 7))
export WORKER_HOST=127.0.0.1 WORKER_PORT="${WORKER_PORT:-5070}"
export PG_PORT="${PG_PORT:-55432}" REDIS_PORT="${REDIS_PORT:-56379}"

"$py" -m ops.supervise check-ports "$gw_lb" "$gw1" "$gw2" "$lb_health" "$rasa_lb" "$rasa1" "$rasa2" \
  "$act_lb" "$act1" "$act2" "$WORKER_PORT"

# --- PostgreSQL and Redis (stopped on exit only when started here). A PostgreSQL DATABASE_URL
# given in the environment is used as it is (the fault harness gives a fresh database).
started_pg=0; started_redis=0
if [[ "${DATABASE_URL:-}" != postgresql* ]]; then
  crm/devtools/pg_server.sh status >/dev/null 2>&1 || started_pg=1
  DATABASE_URL=$(crm/devtools/pg_server.sh start)
fi
scripts/redis_server.sh status >/dev/null 2>&1 || started_redis=1
REDIS_URL=$(scripts/redis_server.sh start)
export DATABASE_URL REDIS_URL  # the password travels in the environment only
echo "==> [cluster] PostgreSQL for the CRM and Rasa's trackers, Redis on 127.0.0.1:$REDIS_PORT"
"$py" -m crm migrate
"$py" -m crm seed --no-users | tail -n 1
"$py" -m worker import-if-empty
GATEWAY_PORT=$gw_lb "$py" -m gateway.console.devusers

# --- secrets (issue 18): by environment only, never as arguments
RASA_TOKEN="${RASA_TOKEN:-$("$py" -c 'from common.settings import get_settings; print(get_settings().rasa_token)')}"
ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$("$py" -c 'from common.settings import get_settings; print(get_settings().action_token)')}"
export RASA_TOKEN ACTION_SERVER_TOKEN
export ACTION_SERVER_PORT=$act_lb RASA_URL="http://127.0.0.1:$rasa_lb"
endpoints=$("$py" -m ops.rasa_endpoints "$run_dir/endpoints.yml")  # SQL trackers on PostgreSQL, Redis locks

lb_conf=$("$py" -m ops.haproxy "$run_dir/haproxy.cfg" --health "$lb_health" \
  --pool gateway "$gw_lb" /healthz "$gw1" "$gw2" \
  --pool rasa "$rasa_lb" /webhooks/gateway/ "$rasa1" "$rasa2" \
  --pool actions "$act_lb" /health "$act1" "$act2" --roundrobin gateway)
haproxy -c -q -f "$lb_conf"

services=()
add() {  # name port health command...
  local name=$1 port=$2 health=$3; shift 3
  local cmd=("$@")
  services+=(--service "$name" "$port" "$health" "${cmd[*]@Q}")
}
for n in 1 2; do
  port_var="act$n"; add "actions$n" "${!port_var}" "http://127.0.0.1:${!port_var}/health" \
    env SANIC_HOST=127.0.0.1 "$py" -m bot.action_server --actions actions -p "${!port_var}"
done
for n in 1 2; do
  port_var="rasa$n"; add "rasa$n" "${!port_var}" "http://127.0.0.1:${!port_var}/webhooks/gateway/" \
    "$root/.venv-rasa/bin/python" -m bot.rasa_launch run --model "$model" --enable-api -i 127.0.0.1 \
    -p "${!port_var}" --credentials credentials.yml --endpoints "$endpoints"
done
for n in 1 2; do
  port_var="gw$n"; add "gateway$n" "${!port_var}" "http://127.0.0.1:${!port_var}/healthz" \
    env GATEWAY_HOST=127.0.0.1 "GATEWAY_PORT=${!port_var}" "$py" -m gateway
done
add worker "$WORKER_PORT" "http://127.0.0.1:$WORKER_PORT/healthz" "$py" -m worker run
add balancer "$lb_health" "http://127.0.0.1:$lb_health/healthz" haproxy -W -db -f "$lb_conf"

conf=$("$py" -m ops.supervise config "$run_dir" "$log_dir" --root "$root" --python "$py" "${services[@]}")
"$root/.venv/bin/supervisord" -c "$conf" >"$log_dir/supervisord.out" 2>&1 &
sup_pid=$!
stop_all() {
  trap - INT TERM EXIT
  echo; echo "==> stopping the cluster"
  kill -TERM "$sup_pid" 2>/dev/null || true
  wait "$sup_pid" 2>/dev/null || true
  [ "$started_redis" = 1 ] && scripts/redis_server.sh stop || true
  [ "$started_pg" = 1 ] && crm/devtools/pg_server.sh stop || true
  echo "==> stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_ready() {  # name seconds
  if ! "$py" -m ops.supervise wait "$run_dir" "$1" "$2"; then
    echo "error: $1 did not start; see $log_dir/$1.log" >&2; tail -n 20 "$log_dir/$1.log" >&2; exit 1
  fi
}
wait_ready balancer 30
for name in actions1 actions2; do
  wait_ready "$name" 180
  # Load the encoder and the index now rather than on a customer's first question (see services.sh).
  port_var="act${name#actions}"
  printf 'X-Lumen-Action-Token: %s\n' "$ACTION_SERVER_TOKEN" | curl -fsS -o /dev/null -X POST \
    "http://127.0.0.1:${!port_var}/webhook" -H @- -H 'Content-Type: application/json' \
    -d '{"next_action":"action_answer_from_kb","sender_id":"warm-up","version":"3.6.21","domain":{},"tracker":{"sender_id":"warm-up","slots":{"language":"en"},"latest_message":{"text":"warm up","intent":{},"entities":[]},"events":[],"paused":false,"followup_action":null,"active_loop":{},"latest_action_name":null}}' \
    || echo "warning: knowledge-base warm-up of $name failed; see $log_dir/$name.log" >&2
done
for name in gateway1 gateway2 worker; do wait_ready "$name" 180; done
for name in rasa1 rasa2; do wait_ready "$name" 400; done

cat <<MSG

  Lumen cluster is running (logs in $log_dir):
    Customer demo page   http://127.0.0.1:$gw_lb/          (HAProxy -> gateways :$gw1, :$gw2)
    Agent console        http://127.0.0.1:$gw_lb/agent
    Health               http://127.0.0.1:$gw_lb/healthz    (balancer: http://127.0.0.1:$lb_health/healthz)
    Rasa (balanced)      http://127.0.0.1:$rasa_lb           (servers :$rasa1, :$rasa2)
    Action servers       http://127.0.0.1:$act_lb           (servers :$act1, :$act2)
    PostgreSQL ${DATABASE_URL##*@} (CRM + trackers), Redis 127.0.0.1:$REDIS_PORT (lock store + live hub)
  Status: .venv/bin/supervisorctl -c $conf status
  Press Ctrl-C to stop.

MSG
if [ -n "${SERVICES_READY_FILE:-}" ]; then : > "$SERVICES_READY_FILE"; fi
if wait "$sup_pid"; then exit 0; fi
echo "error: the supervisor exited; see $log_dir/supervisord.log" >&2
exit 1
