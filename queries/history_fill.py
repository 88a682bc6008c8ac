"""How far gap healing has got: per-asset progress rows summed up for /api/health and the page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from data.store.backfills import Backfill, load_progress


@dataclass(frozen=True)
class FillSummary:
    """Gap healing over the universe: assets complete, days filled of days missing, left gaps."""

    assets: dict[str, dict[str, Any]]
    complete: int          # assets with nothing missing (any more)
    total: int
    missing_days: int
    filled: int
    filling: bool          # a healing run is still going through some asset
    unfilled: dict[str, int]  # symbol -> days no source could fill

    @property
    def pct(self) -> float:
        """Days filled as a share of the days found missing (100 when none was missing)."""
        return 100.0 if not self.missing_days else round(100.0 * self.filled / self.missing_days,
                                                         1)

    def as_json(self) -> dict[str, Any]:
        """The ``history`` block of /api/health."""
        return {"filling": self.filling, "assets_complete": self.complete,
                "assets_total": self.total, "missing_days": self.missing_days,
                "filled": self.filled, "pct": self.pct, "unfilled": self.unfilled,
                "assets": self.assets}


def summarize(progress: Mapping[str, Backfill], universe: list[str]) -> FillSummary:
    """Sum per-asset progress records.

    While a run is filling, assets it has not reached yet (no record) are not complete; with
    no run going, an asset never checked counts as complete (nothing is known to be missing).
    """
    rows = {s: progress[s] for s in universe if s in progress}
    missing = sum(r.missing_days for r in rows.values())
    filled = sum(r.filled for r in rows.values())
    unfilled = {s: r.unfilled_days for s, r in rows.items()
                if r.state == "done" and r.unfillable}
    filling = any(r.state == "filling" for r in rows.values())
    complete = sum(1 for s in universe
                   if (not filling if s not in rows else rows[s].filled >= rows[s].missing_days))
    return FillSummary({s: r.as_dict() for s, r in rows.items()}, complete, len(universe),
                       missing, filled, filling, unfilled)


def history_fill(repo, universe: list[str]) -> FillSummary:  # untyped: Repository
    """The summary of the stored progress rows of ``universe``."""
    return summarize(load_progress(repo), universe)
