#!/usr/bin/env bash
# Start the action server, the Rasa server and the gateway in the background, wait until each
# answers, print the URLs, and stop all three on Ctrl-C / TERM / exit.
# Usage: scripts/services.sh MODEL_PATH        (foreground; `make run` uses this)
# Env: GATEWAY_HOST/GATEWAY_PORT (127.0.0.1:8000), RASA_PORT (5005), ACTION_SERVER_PORT (5055),
#      LOG_DIR (var/log). Rasa and the action server listen on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:?usage: services.sh MODEL_PATH}"
root="$PWD"
log_dir="${LOG_DIR:-$root/var/log}"
mkdir -p "$log_dir"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS="ignore::DeprecationWarning"
export ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
rasa_port="${RASA_PORT:-5005}"
export RASA_URL="http://127.0.0.1:$rasa_port"
# --- secrets (issue 18): passed to the services through the environment only, never as
# arguments (the process list is readable by every local user).
RASA_TOKEN="${RASA_TOKEN:-$(.venv/bin/python -c 'from bot.settings import get_settings; print(get_settings().rasa_token)')}"
ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'from bot.settings import get_settings; print(get_settings().action_token)')}"
export RASA_TOKEN ACTION_SERVER_TOKEN
# --- end secrets
gw_host="${GATEWAY_HOST:-127.0.0.1}"; gw_port="${GATEWAY_PORT:-8000}"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "==> stopping services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "==> stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_http() {  # name url pid seconds
  local name=$1 url=$2 pid=$3 limit=$4 start=$SECONDS
  while ! curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: $name exited during start-up; see $log_dir/$name.log" >&2; tail -n 20 "$log_dir/$name.log" >&2; exit 1
    fi
    if (( SECONDS - start > limit )); then echo "error: $name not up after ${limit}s; see $log_dir/$name.log" >&2; exit 1; fi
    sleep 1
  done
  echo "==> [start] $name up in $(( SECONDS - start )) s"
}

# Action server: bot/action_server.py (token-checked rasa-sdk); Rasa: bot/rasa_launch.py adds
# --auth-token from RASA_TOKEN inside the process.
SANIC_HOST=127.0.0.1 .venv/bin/python -m bot.action_server --actions actions -p "$ACTION_SERVER_PORT" \
  >"$log_dir/actions.log" 2>&1 &
pids+=($!); actions_pid=$!
.venv-rasa/bin/python -m bot.rasa_launch run --model "$model" --enable-api \
  -i 127.0.0.1 -p "$rasa_port" --credentials credentials.yml --endpoints endpoints.yml \
  >"$log_dir/rasa.log" 2>&1 &
pids+=($!); rasa_pid=$!
.venv/bin/python -m bot.gateway >"$log_dir/gateway.log" 2>&1 &
pids+=($!); gateway_pid=$!

wait_http actions "http://127.0.0.1:$ACTION_SERVER_PORT/health" "$actions_pid" 120
# Load the encoder and the index now rather than on the first customer's question: one real
# action call with no side effects (the knowledge-base action only reads).
warm_start=$SECONDS
printf 'X-Lumen-Action-Token: %s\n' "$ACTION_SERVER_TOKEN" | \
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$ACTION_SERVER_PORT/webhook" -H @- -H 'Content-Type: application/json' \
  -d '{"next_action":"action_answer_from_kb","sender_id":"warm-up","version":"3.6.21","domain":{},"tracker":{"sender_id":"warm-up","slots":{"language":"en"},"latest_message":{"text":"warm up","intent":{},"entities":[]},"events":[],"paused":false,"followup_action":null,"active_loop":{},"latest_action_name":null}}' \
  && echo "==> [start] knowledge base loaded in $(( SECONDS - warm_start )) s" || echo "warning: knowledge-base warm-up failed; see $log_dir/actions.log" >&2
wait_http gateway "http://$gw_host:$gw_port/healthz" "$gateway_pid" 120
wait_http rasa "http://127.0.0.1:$rasa_port/webhooks/gateway/" "$rasa_pid" 300

cat <<MSG

  Lumen support assistant is running (logs in $log_dir):
    Customer demo page   http://$gw_host:$gw_port/
    Widget script        http://$gw_host:$gw_port/widget.js
    Health               http://$gw_host:$gw_port/healthz
  Press Ctrl-C to stop.

MSG
if [ -n "${SERVICES_READY_FILE:-}" ]; then : > "$SERVICES_READY_FILE"; fi
wait -n "${pids[@]}" || true
echo "error: a service exited; see $log_dir" >&2
exit 1
