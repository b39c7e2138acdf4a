#!/usr/bin/env bash
# Build and publish the knowledge-base index from the CRM's published entries (the trainers'
# source of truth), only when their content or the encoder changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${KB_INDEX_DIR:-var/kb}"
mkdir -p "$root"
export_file="$root/source.yml"
.venv/bin/python -m worker export "$export_file.tmp" >/dev/null
mv "$export_file.tmp" "$export_file"
want="$( { cat "$export_file"; echo "${KB_ENCODER:-use-multilingual-v3}"; cat kb/*.py kb/data/*.json; } | sha256sum | cut -c1-16)"
if [ -f "$root/CURRENT" ] && [ "$(cat "$root/.built-from" 2>/dev/null)" = "$want" ]; then
  echo "==> [index] knowledge-base index is up to date"
  exit 0
fi
echo "==> [index] building the knowledge-base index"
.venv/bin/python -m kb build --source "$export_file" --root "$root" --encoder "${KB_ENCODER:-use-multilingual-v3}"
echo "$want" > "$root/.built-from"
