#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite (lint, types, tests on SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
[ -x /usr/bin/chromium ] || { apt-get update -qq && apt-get install -y -qq chromium; }
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
ruff format --check .
mypy
python -m pytest "$@"
