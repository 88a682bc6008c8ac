"""Backfill requests (store meta table): read by the scheduler's backfill job, state written back.

``holdings.py`` records ``backfill:<SYMBOL>`` = ``{"state": "requested", "requested_at"}``
when a holding without history is added; the backfill job marks it "running", then "done" or
"failed" (with the one-line error), and the dashboard shows whatever state it finds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from data.store.holdings import BACKFILL_PREFIX
from data.store.repository import meta
from errors import StorageError
from redaction import clip

logger = logging.getLogger(__name__)


def pending_backfills(repo) -> dict[str, dict[str, Any]]:  # noqa: ANN001 - Repository
    """Requested backfills not yet done: symbol -> recorded state."""
    query = sa.select(meta.c.key, meta.c.value).where(meta.c.key.like(BACKFILL_PREFIX + "%"))
    try:
        with repo.engine.connect() as conn:
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise StorageError(f"backfill requests: {exc.__class__.__name__}") from exc
    pending = {}
    for key, value in rows:
        try:
            state = json.loads(value)
        except ValueError:
            state = {}
        if not isinstance(state, dict) or state.get("state") != "done":
            pending[key[len(BACKFILL_PREFIX):]] = state if isinstance(state, dict) else {}
    return pending


def set_backfill_state(repo, symbol: str, state: str, *, now: datetime,  # noqa: ANN001
                       error: str | None = None) -> None:
    """Overwrite the recorded state of one symbol's backfill request (one transaction)."""
    key = BACKFILL_PREFIX + symbol
    value = json.dumps({"state": state, "updated_at": now.isoformat(),
                        **({"error": clip(error, 300)} if error else {})})
    try:
        with repo.engine.begin() as conn:
            updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value))
            if not updated.rowcount:
                conn.execute(meta.insert().values(key=key, value=value))
    except SQLAlchemyError as exc:
        raise StorageError(f"backfill request of {symbol}: {exc.__class__.__name__}") from exc


def record_outcomes(repo, requested: Iterable[str], report: Any, *,  # noqa: ANN001
                    now: datetime) -> None:
    """Mark each requested symbol done or failed from an IngestReport's per-asset results."""
    results = {a.symbol: a for a in getattr(report, "assets", [])}
    for symbol in requested:
        asset = results.get(symbol)
        if asset is None:
            continue  # not reached (shutdown): stays "running", retried by the next run
        if asset.error:
            set_backfill_state(repo, symbol, "failed", now=now, error=asset.error)
        else:
            set_backfill_state(repo, symbol, "done", now=now)
