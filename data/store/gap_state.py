"""Progress of history gap healing, kept in the store's meta table (one JSON row per asset).

Written by the scheduler's gap job (data/ingest/gap_heal.py) after every fetched chunk, read by
/api/health and the dashboard in any process. Row ``gaps:<SYMBOL>``::

    {"state": "filling" | "done", "missing_days": 372, "filled": 365, "pct": 98.1,
     "unfillable": [["2025-08-14", "2025-08-20", 7, "coingecko: ...; yahoo: ..."]],
     "updated_at": "2026-08-21T22:00:03+00:00"}

``missing_days`` is what the run found missing, ``filled`` what it stored so far; the
``unfillable`` stretches are those no source of the chain could fill in the last run.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from data.store.repository import meta
from errors import StorageError

logger = logging.getLogger(__name__)

GAP_PREFIX = "gaps:"


def progress_record(*, state: str, missing_days: int, filled: int,
                    unfillable: list[list], now: datetime) -> dict[str, Any]:
    """One asset's progress row (pct of the missing days filled; 100 when none was missing)."""
    pct = 100.0 if missing_days == 0 else round(100.0 * min(filled, missing_days) / missing_days, 1)
    return {"state": state, "missing_days": missing_days, "filled": filled, "pct": pct,
            "unfillable": unfillable, "updated_at": now.isoformat()}


def save_progress(repo, symbol: str, record: dict[str, Any]) -> None:  # noqa: ANN001 - Repository
    """Overwrite one asset's progress row (one transaction)."""
    key, value = GAP_PREFIX + symbol, json.dumps(record)
    try:
        with repo.engine.begin() as conn:
            if not conn.execute(meta.update().where(meta.c.key == key)
                                .values(value=value)).rowcount:
                conn.execute(meta.insert().values(key=key, value=value))
    except SQLAlchemyError as exc:
        raise StorageError(f"gap progress of {symbol}: {exc.__class__.__name__}") from exc


def load_progress(repo) -> dict[str, dict[str, Any]]:  # noqa: ANN001 - Repository
    """Every asset's last progress row, by symbol (unreadable rows are skipped with a warning)."""
    query = sa.select(meta.c.key, meta.c.value).where(meta.c.key.like(GAP_PREFIX + "%"))
    try:
        with repo.engine.connect() as conn:
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise StorageError(f"gap progress: {exc.__class__.__name__}") from exc
    out = {}
    for key, value in rows:
        try:
            record = json.loads(value)
        except ValueError:
            logger.warning("unreadable gap progress row %s", key)
            continue
        if isinstance(record, dict):
            out[key[len(GAP_PREFIX):]] = record
    return out
