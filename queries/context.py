"""What a read needs: the store, the settings and *now* (the one clock seam of the read side)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from analytics.staleness import StalenessLimits
from data.store.universe import Universe, effective_universe

if TYPE_CHECKING:
    from data.store.repository import Repository
    from settings import Settings


@dataclass(frozen=True)
class ReadContext:
    """One request's view of the store: ``now`` is read once, so every number agrees.

    Args:
        repo: the store.
        settings: validated settings (universe, staleness limits, demo flag, portfolio name).
        now: the time the request is answered at (tz-aware UTC); tests and benchmarks pass it.
    """

    repo: Repository
    settings: Settings
    now: datetime

    def universe(self) -> Universe:
        """The effective universe: config.yaml's assets, then the custom ones (the store)."""
        return effective_universe(self.settings, self.repo)

    @property
    def asset_kinds(self) -> dict[str, str]:
        """Asset class (crypto/equity) of every asset of the universe (custom included)."""
        return {symbol: asset.kind for symbol, asset in self.universe().items()}

    @property
    def limits(self) -> StalenessLimits:
        """Staleness limits from the ``staleness`` config section."""
        return StalenessLimits.from_settings(self.settings.staleness)

    def holdings(self) -> dict[str, float]:
        """The stored portfolio's quantities by symbol."""
        return self.repo.load_holdings(self.settings.portfolio.name)

    def names(self) -> dict[str, str]:
        """Display name of every asset of the universe."""
        return {s: a.name for s, a in self.universe().items()}

    def categories(self) -> dict[str, str]:
        """Category of every asset of the universe."""
        return {s: a.category for s, a in self.universe().items()}
