#!/usr/bin/env bash
# One command to install and run btcfolio:
#   bash scripts/run.sh [--demo] [--host H] [--port N] [--config PATH] [--dev]
# Serves with gunicorn (gunicorn.conf.py: gevent workers + the scheduler process); --dev runs
# Flask's development server (python app.py) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${BTCFOLIO_VENV:-.venv}

dev=0
app_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) dev=1 ;;
    --demo) export BTCFOLIO__DEMO=true; app_args+=("$1") ;;
    --host|--port|--config)
      [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --host) export BTCFOLIO__SERVER__HOST="$2" ;;
        --port) export BTCFOLIO__SERVER__PORT="$2" ;;
        --config) export BTCFOLIO_CONFIG="$(realpath "$2")" ;;
      esac
      app_args+=("$1" "$2"); shift ;;
    *) echo "run.sh: unknown option $1 (known: --demo --host --port --config --dev)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$dev" = 1 ]; then
  exec "$VENV/bin/python" app.py ${app_args[@]+"${app_args[@]}"}
fi
exec "$VENV/bin/python" -m gunicorn -c gunicorn.conf.py
