"""The truth for /api/health: each source's state and the app's overall status (no Flask here).

* a source is ``disabled`` (switched off), ``disabled: no API key`` (needs a key the
  environment does not give), ``ok`` (its last call answered), ``failing`` (its last call
  failed) or ``not called yet``;
* overall ``down``: no source is enabled, or every enabled one is failing; ``degraded``: some
  enabled source is failing, or some history is missing (still being filled, or no source
  could fill it); else ``ok``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data import clock
from data.scheduling.hourly import load_no_source
from data.store.scheduler_state import describe_scheduler, stale_after
from errors import AppError
from queries.history_fill import FillSummary

DISABLED, NO_KEY = "disabled", "disabled: no API key"


def source_states(settings, health_rows: Mapping[str, Mapping[str, Any]],
                  environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Each configured source: ``status`` (see module docstring), ``enabled`` and its health row.

    Args:
        settings: the app's Settings (sources and their key variables).
        health_rows: source -> stored health row (healthy, failures, last_ok, last_error, ...).
        environ: where the keys would be (only their presence is looked at).
    """
    out = {}
    for name, cfg in settings.sources.items():
        row = dict(health_rows.get(name, {"healthy": None}))
        if not cfg.enabled:
            status = DISABLED
        elif cfg.key_required and not settings.api_key(name, environ):
            status = NO_KEY
        elif row.get("healthy") is None:
            status = "not called yet"
        else:
            status = "ok" if row["healthy"] else "failing"
        out[name] = {**row, "enabled": not status.startswith(DISABLED), "status": status}
    return out


def overall_status(sources: Mapping[str, Mapping[str, Any]], history: FillSummary) -> str:
    """"ok", "degraded" or "down" (see module docstring)."""
    active = [s for s in sources.values() if s["enabled"]]
    failing = [s for s in active if s["status"] == "failing"]
    if not active or len(failing) == len(active):
        return "down"
    if failing or history.filling or history.unfilled:
        return "degraded"
    return "ok"


def hourly_coverage(repo) -> dict[str, Any]:  # untyped: Repository
    """The ``hourly`` block of /api/health: held assets without an hourly source.

    ``no_source`` is what the hourly job found on its last run (null before its first run);
    those assets are valued hourly at their daily close.
    """
    return {"no_source": load_no_source(repo)}


def scheduler_section(repo, settings) -> dict[str, Any]:  # untyped: Repository, Settings
    """The /api/health ``scheduler`` block, read from the store (any process, any worker).

    Judged by the process clock (``data.clock``), the clock the schedulers stamp their
    heartbeats with, not a read-side clock a test may have moved. A store that cannot be read
    gives ``{"state": "unknown", "error": ...}``.
    """
    try:
        return describe_scheduler(repo, now=clock.utcnow(),
                                  stale_after=stale_after(settings.scheduler))
    except AppError as exc:
        return {"state": "unknown", "error": str(exc)}
