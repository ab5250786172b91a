#!/usr/bin/env bash
# Set up, migrate, make a demo site (printing its API key once), and serve on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
flask --app api db upgrade
# Made on the first run only; later runs say it exists (its key is never shown again).
flask --app api sites create demo --exist-ok
url="http://${MODERATION_BIND:-127.0.0.1:8000}"
echo "Serving on $url"
echo "  demo article with a comment form: $url/demo"
echo "  API reference:                    $url/docs"
echo "  moderators and operators sign in: $url/signin  (scripts/cli.sh users create/set-password)"
exec gunicorn -c gunicorn.conf.py 'api:create_app()'
