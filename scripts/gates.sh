#!/usr/bin/env bash
# The code gates `make test` runs first: lint and format (ruff), import layers (import-linter),
# types (mypy, strict on the app packages). Configuration: pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
echo "==> [gates] ruff, import-linter, mypy"
"$bin/ruff" check --quiet .
"$bin/ruff" format --check --quiet .
out=$("$bin/lint-imports" --no-cache 2>&1) || { echo "$out" | sed -n '/Broken contracts/,$p'; exit 1; }
"$bin/mypy" --no-error-summary
