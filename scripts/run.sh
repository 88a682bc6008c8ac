#!/usr/bin/env bash
# One command to install and run btcfolio: bash scripts/run.sh [--demo] [--port N] [--config PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python app.py "$@"
