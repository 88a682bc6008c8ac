#!/usr/bin/env bash
# Create .venv (if missing) and install the pinned-range requirements. Idempotent: a second run
# with an unchanged requirements.txt does nothing. Shows each step (the first install downloads
# about 60 packages and takes 1-3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
started=$SECONDS
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PY" --version 2>&1)"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements.txt into .venv (first time: 1-3 minutes)"
  # pip's own progress (one line per package) minus the "already satisfied" noise of re-runs.
  set +e
  .venv/bin/pip install --disable-pip-version-check --progress-bar on -r requirements.txt \
    | grep --line-buffered -v -e '^Requirement already satisfied'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" != 0 ]; then
    echo "setup: pip install failed (exit $status); see the lines above" >&2
    exit "$status"
  fi
  echo "$want" > "$stamp"
  echo "setup: done in $((SECONDS - started)) s"
fi
