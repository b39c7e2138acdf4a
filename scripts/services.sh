#!/usr/bin/env bash
# Start the action server, the Rasa server, the gateway and the KB worker under supervisord
# (ops/supervise.py), wait until each answers, print the URLs; Ctrl-C / TERM stops them all with
# their process trees.
# A crashed service is restarted (with backoff after repeated crashes); `make run` keeps going.
# Usage: scripts/services.sh MODEL_PATH        (foreground; `make run` uses this)
# Env: GATEWAY_HOST/GATEWAY_PORT (127.0.0.1:8000), RASA_PORT (5005), ACTION_SERVER_PORT (5055),
#      WORKER_PORT (5070, the KB worker's health endpoint), LOG_DIR (var/log), RUN_DIR (<var>/run). Rasa and the action server listen on 127.0.0.1.
# Control while running: .venv/bin/supervisorctl -c "$RUN_DIR/supervisord.conf" status|restart NAME
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:?usage: services.sh MODEL_PATH}"
root="$PWD"
py="$root/.venv/bin/python"
var_dir="${CSA_VAR_DIR:-$root/var}"
log_dir="${LOG_DIR:-$root/var/log}"
run_dir="${RUN_DIR:-$var_dir/run}"
mkdir -p "$log_dir" "$run_dir"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS="ignore::DeprecationWarning"
export ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
rasa_port="${RASA_PORT:-5005}"
export RASA_URL="http://127.0.0.1:$rasa_port"
# --- secrets (issue 18): passed to the services through the environment only, never as
# arguments (the process list is readable by every local user).
RASA_TOKEN="${RASA_TOKEN:-$("$py" -c 'from common.settings import get_settings; print(get_settings().rasa_token)')}"
ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$("$py" -c 'from common.settings import get_settings; print(get_settings().action_token)')}"
export RASA_TOKEN ACTION_SERVER_TOKEN
# --- end secrets
gw_host="${GATEWAY_HOST:-127.0.0.1}"; gw_port="${GATEWAY_PORT:-8000}"
export WORKER_HOST=127.0.0.1 WORKER_PORT="${WORKER_PORT:-5070}"

endpoints=$("$py" -m ops.rasa_endpoints "$run_dir/endpoints.yml")  # + tracker and lock stores

# One line per service: its command (arguments and environment) and its health URL.
# Action server: bot/action_server.py (token-checked rasa-sdk); Rasa: bot/rasa_launch.py adds
# --auth-token from RASA_TOKEN inside the process (secrets never on the process list, issue 18).
actions_cmd=(env SANIC_HOST=127.0.0.1 "$py" -m bot.action_server --actions actions -p "$ACTION_SERVER_PORT")
actions_health="http://127.0.0.1:$ACTION_SERVER_PORT/health"
rasa_cmd=("$root/.venv-rasa/bin/python" -m bot.rasa_launch run --model "$model" --enable-api
  -i 127.0.0.1 -p "$rasa_port" --credentials credentials.yml --endpoints "$endpoints")
rasa_health="http://127.0.0.1:$rasa_port/webhooks/gateway/"
gateway_cmd=("$py" -m gateway)
gateway_health="http://$gw_host:$gw_port/healthz"
# KB worker (worker/): runs the trainers' index rebuilds; serves only its health endpoint.
worker_cmd=("$py" -m worker run)
worker_health="http://127.0.0.1:$WORKER_PORT/healthz"

"$py" -m ops.supervise check-ports "$ACTION_SERVER_PORT" "$rasa_port" "$gw_port" "$WORKER_PORT"
conf=$("$py" -m ops.supervise config "$run_dir" "$log_dir" --root "$root" --python "$py" \
  --service actions "$ACTION_SERVER_PORT" "$actions_health" "${actions_cmd[*]@Q}" \
  --service rasa "$rasa_port" "$rasa_health" "${rasa_cmd[*]@Q}" \
  --service gateway "$gw_port" "$gateway_health" "${gateway_cmd[*]@Q}" \
  --service worker "$WORKER_PORT" "$worker_health" "${worker_cmd[*]@Q}")

"$root/.venv/bin/supervisord" -c "$conf" >"$log_dir/supervisord.out" 2>&1 &
sup_pid=$!
stop_all() {
  trap - INT TERM EXIT
  echo; echo "==> stopping services"
  kill -TERM "$sup_pid" 2>/dev/null || true
  wait "$sup_pid" 2>/dev/null || true
  echo "==> stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_ready() {  # name seconds
  if ! "$py" -m ops.supervise wait "$run_dir" "$1" "$2"; then
    echo "error: $1 did not start; see $log_dir/$1.log" >&2; tail -n 20 "$log_dir/$1.log" >&2; exit 1
  fi
}

wait_ready actions 120
# Load the encoder and the index now rather than on the first customer's question: one real
# action call with no side effects (the knowledge-base action only reads).
warm_start=$SECONDS
printf 'X-Lumen-Action-Token: %s\n' "$ACTION_SERVER_TOKEN" | \
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$ACTION_SERVER_PORT/webhook" -H @- -H 'Content-Type: application/json' \
  -d '{"next_action":"action_answer_from_kb","sender_id":"warm-up","version":"3.6.21","domain":{},"tracker":{"sender_id":"warm-up","slots":{"language":"en"},"latest_message":{"text":"warm up","intent":{},"entities":[]},"events":[],"paused":false,"followup_action":null,"active_loop":{},"latest_action_name":null}}' \
  && echo "==> [start] knowledge base loaded in $(( SECONDS - warm_start )) s" || echo "warning: knowledge-base warm-up failed; see $log_dir/actions.log" >&2
wait_ready gateway 120
wait_ready worker 60
wait_ready rasa 300

cat <<MSG

  Lumen support assistant is running (logs in $log_dir):
    Customer demo page   http://$gw_host:$gw_port/
    Widget script        http://$gw_host:$gw_port/widget.js
    Health               http://$gw_host:$gw_port/healthz
  Crashed services restart on their own; status: .venv/bin/supervisorctl -c $conf status
  Press Ctrl-C to stop.

MSG
if [ -n "${SERVICES_READY_FILE:-}" ]; then : > "$SERVICES_READY_FILE"; fi
# supervisord ends on its own only when told to shut down (Ctrl-C reaches it too): status 0.
if wait "$sup_pid"; then exit 0; fi
echo "error: the supervisor exited; see $log_dir/supervisord.log" >&2
exit 1
