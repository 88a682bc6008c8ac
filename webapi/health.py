"""GET /api/health: overall status, store, cache, scheduler, per-source state, history filling."""

from __future__ import annotations

import os

from flask import Blueprint, jsonify

import services
from data.errors import DataError
from queries.health import hourly_coverage, overall_status, source_states
from queries.history_fill import history_fill
from webapi.common import json_error

bp = Blueprint("api_health", __name__)


@bp.get("/api/health")
def get_health():
    """Health of the running app (never calls a provider)."""
    repo, settings = services.repository(), services.settings()
    try:
        counts = repo.count_prices()
        rows = {row["source"]: row for row in repo.load_source_health()}
        history = history_fill(repo, sorted(settings.assets))
        quotes = len(repo.load_quotes())
        hourly = hourly_coverage(repo)
    except DataError as exc:
        return json_error(str(exc), 503)
    # Only whether each key is present is read (secrets come from the environment).
    sources = source_states(settings, rows, os.environ)
    # A store that reads but cannot write (disk full, read-only file) is not healthy: probe it,
    # and report a failed real write (the scheduler's, a holding) too.
    write_error = repo.probe_write() or repo.last_write_error
    status = overall_status(sources, history)
    return jsonify({
        "status": "degraded" if write_error and status == "ok" else status,
        "store": {"backend": repo.backend, "prices": counts, "quotes": quotes,
                  "writable": write_error is None, "error": write_error},
        "cache": {"backend": "redis" if settings.cache.redis_url else "filesystem"},
        "scheduler": services.scheduler_state(),
        "sources": sources,
        "history": history.as_json(),
        "hourly": hourly,
        "demo": settings.demo,
    })
