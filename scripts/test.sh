#!/usr/bin/env bash
# One command to install and run the tests: bash scripts/test.sh [pytest args]
# Installs requirements into .venv, Debian's chromium + chromium-driver for the browser tests,
# and (when CI=true) makes sure PostgreSQL and Redis are up so their tests run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: chromium/chromedriver missing and cannot be installed here: browser tests will skip" >&2
  fi
fi

if [ "${CI:-}" = "true" ]; then
  bash scripts/services.sh
  export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
  export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
fi

export DASH_TEST_CHROMEPATH=${DASH_TEST_CHROMEPATH:-/usr/bin/chromium}
export SE_CHROMEDRIVER=${SE_CHROMEDRIVER:-/usr/bin/chromedriver}
exec .venv/bin/python -m pytest --headless "$@"
