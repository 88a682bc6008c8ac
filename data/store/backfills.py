"""How far each asset's history is filled: one typed record (``Backfill``), kept in the meta table.

Two jobs fill history, and each keeps one ``Backfill`` per asset under its own meta key:

* a **request** (``backfill:<SYMBOL>``): recorded when a holding or a custom asset without
  history is added; the scheduler's backfill job marks it ``running``, then ``done`` or
  ``failed`` (with the one-line error); the dashboard shows whatever state it finds;
* **gap healing** (``gaps:<SYMBOL>``): written by the gap job (``data/ingest/gap_heal.py``)
  after every fetched chunk, read by /api/health and the dashboard in any process:
  ``filling`` or ``done``, the days found missing, the days filled so far and the stretches
  no source of the chain could fill in the last run.

The rows' JSON is what earlier versions wrote, so stored rows read back unchanged::

    backfill:DOGE  {"state": "requested", "requested_at": "2026-08-21T22:00:00+00:00"}
    backfill:DOGE  {"state": "failed", "updated_at": "...", "error": "yahoo: ..."}
    gaps:ETH       {"state": "filling", "missing_days": 372, "filled": 365, "pct": 98.1,
                    "unfillable": [["2025-08-14", "2025-08-20", 7, "coingecko: ...; yahoo: ..."]],
                    "updated_at": "2026-08-21T22:00:03+00:00"}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data.store.state import StoreBase
from redaction import clip

logger = logging.getLogger(__name__)

REQUEST_PREFIX = "backfill:"
GAPS_PREFIX = "gaps:"
REQUEST, GAPS = "request", "gaps"


@dataclass(frozen=True)
class Backfill:
    """One asset's history filling: a full-history request or its gap-healing progress.

    ``state``: requested / running / done / failed (a request), filling / done (gaps),
    ``unknown`` for an unreadable request row. ``at``: ISO time it was requested or last
    updated. ``unfillable``: (first day, last day, days, why) per stretch no source had.
    """

    kind: str
    state: str
    at: str | None = None
    error: str | None = None
    missing_days: int = 0
    filled: int = 0
    unfillable: tuple[tuple[Any, ...], ...] = ()

    @property
    def pct(self) -> float:
        """Share of the missing days filled, in percent (100 when none was missing)."""
        if self.missing_days == 0:
            return 100.0
        return round(100.0 * min(self.filled, self.missing_days) / self.missing_days, 1)

    @property
    def unfilled_days(self) -> int:
        """Days in the stretches no source could fill."""
        return sum(int(stretch[2]) for stretch in self.unfillable)

    def as_dict(self) -> dict[str, Any]:
        """The stored JSON object (also the per-asset block of /api/health's ``history``)."""
        if self.kind == GAPS:
            return {"state": self.state, "missing_days": self.missing_days,
                    "filled": self.filled, "pct": self.pct,
                    "unfillable": [list(s) for s in self.unfillable], "updated_at": self.at}
        if self.state == "requested":
            return {"state": self.state, "requested_at": self.at}
        return {"state": self.state, "updated_at": self.at,
                **({"error": self.error} if self.error else {})}

    @classmethod
    def from_json(cls, kind: str, raw: str) -> Backfill | None:
        """Parse a stored row (None for an unreadable gap row; "unknown" for a request)."""
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return Backfill(REQUEST, "unknown") if kind == REQUEST else None
        at = data.get("updated_at") or data.get("requested_at")
        return cls(kind, str(data.get("state", "unknown")), at, data.get("error"),
                   int(data.get("missing_days", 0) or 0), int(data.get("filled", 0) or 0),
                   tuple(tuple(s) for s in data.get("unfillable") or ()))


# ---- requests (holdings, custom assets -> the scheduler's backfill job) -----------------------
def request_backfill(repo: StoreBase, symbol: str, *, now: datetime) -> bool:
    """Record a request for the full history of ``symbol``; False if one was already recorded."""
    record = Backfill(REQUEST, "requested", now.isoformat())
    return repo.claim_meta(REQUEST_PREFIX + symbol, json.dumps(record.as_dict()))


def backfill_state(repo: StoreBase, symbol: str) -> Backfill | None:
    """The recorded request of a symbol (None when none was requested)."""
    raw = repo.get_meta(REQUEST_PREFIX + symbol)
    return None if raw is None else Backfill.from_json(REQUEST, raw)


def pending_backfills(repo: StoreBase) -> dict[str, Backfill]:
    """Requested backfills not yet done: symbol -> recorded request."""
    out = {}
    for key, raw in repo.meta_items(REQUEST_PREFIX):
        record = Backfill.from_json(REQUEST, raw)
        if record.state != "done":
            out[key[len(REQUEST_PREFIX):]] = record
    return out


def set_backfill_state(repo: StoreBase, symbol: str, state: str, *, now: datetime,
                       error: str | None = None) -> None:
    """Overwrite the recorded state of one symbol's request (one transaction)."""
    record = Backfill(REQUEST, state, now.isoformat(), clip(error, 300) if error else None)
    repo.set_meta(REQUEST_PREFIX + symbol, json.dumps(record.as_dict()))


def record_outcomes(repo: StoreBase, requested: Iterable[str], report: Any, *,
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


# ---- gap healing progress ---------------------------------------------------------------------
def progress_record(*, state: str, missing_days: int, filled: int,
                    unfillable: list[list], now: datetime) -> Backfill:
    """One asset's gap-healing progress at ``now``."""
    return Backfill(GAPS, state, now.isoformat(), None, missing_days, filled,
                    tuple(tuple(s) for s in unfillable))


def save_progress(repo: StoreBase, symbol: str, record: Backfill) -> None:
    """Overwrite one asset's gap-healing progress (one transaction)."""
    repo.set_meta(GAPS_PREFIX + symbol, json.dumps(record.as_dict()))


def load_progress(repo: StoreBase) -> dict[str, Backfill]:
    """Every asset's last gap-healing progress, by symbol (unreadable rows skipped, logged)."""
    out = {}
    for key, raw in repo.meta_items(GAPS_PREFIX):
        record = Backfill.from_json(GAPS, raw)
        if record is None:
            logger.warning("unreadable gap progress row %s", key)
            continue
        out[key[len(GAPS_PREFIX):]] = record
    return out
