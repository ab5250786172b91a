#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite (lint, types, layering, tests on SQLite
# and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
# The browser tests drive Debian's chromium (Playwright never downloads a browser here):
# only chromium and the packages it needs (nothing recommended); apt's output only on failure.
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium for the browser tests (apt-get)..." >&2
  apt_log=$(mktemp)
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
    >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
ruff format --check .
mypy
lint-imports --no-cache
python -m pytest "$@"
