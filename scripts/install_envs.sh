#!/usr/bin/env bash
# Create the two virtual environments from the pinned lock files (idempotent: a stamp file
# records the lock's hash, so a second run installs nothing).
#   .venv       Python 3.11: action server, kb, CRM store, gateway, tests (torch CPU first)
#   .venv-rasa  Python 3.10: the Rasa 3.6 server only
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_ok() { [ -f "$1/.installed" ] && [ "$(cat "$1/.installed")" = "$2" ]; }
lock_hash() { cat "$@" | sha256sum | cut -c1-16; }

app_hash=$(lock_hash requirements/torch.txt requirements/app.lock)
if ! stamp_ok .venv "$app_hash"; then
  py=$(scripts/find_python.sh 3.11)
  echo "==> [install] app environment (.venv, $py)"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements/torch.txt
  .venv/bin/pip install -q -r requirements/app.lock
  echo "$app_hash" > .venv/.installed
fi

rasa_hash=$(lock_hash requirements/rasa.lock)
if ! stamp_ok .venv-rasa "$rasa_hash"; then
  py=$(scripts/find_python.sh 3.10)
  echo "==> [install] Rasa environment (.venv-rasa, $py; about 5 minutes the first time)"
  [ -x .venv-rasa/bin/python ] || "$py" -m venv .venv-rasa
  .venv-rasa/bin/pip install -q --upgrade pip
  .venv-rasa/bin/pip install -q -r requirements/rasa.lock
  echo "$rasa_hash" > .venv-rasa/.installed
fi
