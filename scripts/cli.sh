#!/usr/bin/env bash
# The service's command line from any shell: `scripts/cli.sh ARGS` is `flask --app api ARGS`
# in the project's .venv (made on first use), run from the project folder, so it works on the
# same ./instance database as scripts/serve.sh. Set MODERATION_* variables as for serve.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2  # stdout is the command's alone (`--json` output goes to jq)
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec flask --app api "$@"
