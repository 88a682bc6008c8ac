"""GET /api/health: store backend and row counts, cache backend, scheduler, per-source status."""

from __future__ import annotations

from flask import Blueprint, jsonify

import services
from data.errors import DataError
from webapi.common import json_error

bp = Blueprint("api_health", __name__)


@bp.get("/api/health")
def get_health():
    """Health of the running app (never calls a provider)."""
    repo, settings = services.repository(), services.settings()
    try:
        counts = repo.count_prices()
        sources = {row["source"]: row for row in repo.load_source_health()}
    except DataError as exc:
        return json_error(str(exc), 503)
    # A store that reads but cannot write (disk full, read-only file) is not healthy: probe it,
    # and report a failed real write (the scheduler's, a holding) too.
    write_error = repo.probe_write() or repo.last_write_error
    return jsonify({
        "status": "degraded" if write_error else "ok",
        "store": {"backend": repo.backend, "prices": counts, "quotes": len(repo.load_quotes()),
                  "writable": write_error is None, "error": write_error},
        "cache": {"backend": "redis" if settings.cache.redis_url else "filesystem"},
        "scheduler": services.scheduler_state(),
        "sources": {
            name: {"enabled": cfg.enabled, **sources.get(name, {"healthy": None})}
            for name, cfg in settings.sources.items()
        },
        "demo": settings.demo,
    })
