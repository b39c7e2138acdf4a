#!/usr/bin/env bash
# Print the path of a Python interpreter of the wanted minor version (3.10 or 3.11), or fail
# with a message that says how to get one. Usage: scripts/find_python.sh 3.10
set -euo pipefail
want="${1:?usage: find_python.sh 3.10|3.11}"
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}\.[0-9]+$" | sort -Vr); do
    candidates+=("$(pyenv prefix "$v")/bin/python")
  done
fi
candidates+=("$(command -v "python$want" 2>/dev/null || true)" "$(command -v python3 2>/dev/null || true)")
for py in "${candidates[@]}"; do
  [ -n "$py" ] && [ -x "$py" ] || continue
  if [ "$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]; then
    echo "$py"; exit 0
  fi
done
echo "error: Python $want not found. Install it (for example 'pyenv install $want') or put python$want on PATH." >&2
exit 1
