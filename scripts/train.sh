#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. The model is named by a fingerprint of
# config.yml, domain.yml, data/ and the custom NLU components, and cached outside the checkout
# (MODEL_CACHE_DIR, default ~/.cache/lumen-support/models) so clean clones in CI reuse it.
# Prints the model path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${MODEL_CACHE_DIR:-$HOME/.cache/lumen-support/models}"
fp=$( { cat config.yml domain.yml requirements/rasa.lock; find data bot/nlu -type f \( -name '*.yml' -o -name '*.py' \) | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
model="models/$fp.tar.gz"
mkdir -p models "$cache"
if [ -f "$model" ]; then
  echo "==> [train] model $fp is up to date" >&2
elif [ -f "$cache/$fp.tar.gz" ]; then
  echo "==> [train] model $fp restored from $cache" >&2
  cp "$cache/$fp.tar.gz" "$model"
else
  echo "==> [train] training model $fp (config, domain or data changed)" >&2
  start=$(date +%s)
  PYTHONPATH="$PWD" RASA_TELEMETRY_ENABLED=false .venv-rasa/bin/rasa train \
    --config config.yml --domain domain.yml --data data --out models --fixed-model-name "$fp" >&2
  echo "==> [train] done in $(( $(date +%s) - start )) s" >&2
  cp "$model" "$cache/$fp.tar.gz.tmp" && mv "$cache/$fp.tar.gz.tmp" "$cache/$fp.tar.gz"
fi
echo "$model"
