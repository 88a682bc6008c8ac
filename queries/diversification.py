"""Read side of the Diversifiers panel and /api/diversification: store reads -> selection.

One function, used by the page and the API alike, so both show the same list
(``analytics.selection.select_low_btc_correlation`` over the configured universe).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from analytics.categories import categories_from_assets
from analytics.correlation import CorrelationResult, correlation_matrix
from analytics.selection import Selection, effective_number_of_bets, select_low_btc_correlation
from analytics.units import BTC
from data.store.repository import Repository
from data.store.universe import effective_universe
from settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Diversification:
    """The ranked low-correlation picks, what is held, and effective bets now vs proposed."""

    result: CorrelationResult
    selection: Selection
    categories: dict[str, str]
    held: frozenset[str]
    effective_bets_current: float | None   # BTC + held assets with a number; None: none has
    no_number: dict[str, str]               # symbol -> why it has no correlation to BTC

    @property
    def effective_bets_proposal(self) -> float:
        """Effective bets of BTC plus every pick (``Selection.effective_bets``)."""
        return self.selection.effective_bets


def universe_correlation(repo: Repository, settings: Settings,
                         lookback_days: int) -> CorrelationResult:
    """Correlation matrix of the universe (custom assets too) over the lookback.

    The window ends at BTC's newest close.

    Assets without a close in the window (MATIC after its series ended) stay, all NaN.

    Raises:
        ValueError: no BTC close stored.
    """
    universe = list(effective_universe(settings, repo))
    newest = repo.load_closes([BTC]).index.max()
    if pd.isna(newest):
        raise ValueError("no BTC close stored: no window for the correlation")
    closes = repo.load_closes(universe, start=newest - timedelta(days=lookback_days + 1))
    closes = closes.reindex(columns=universe)
    return correlation_matrix(closes, lookback_days, as_of=closes[BTC].last_valid_index())


def _current_bets(result: CorrelationResult, held: frozenset[str]) -> float | None:
    chosen = [BTC, *sorted(s for s in held if s in result.matrix.columns
                                 and s != BTC)]
    try:
        return effective_number_of_bets(result.matrix.loc[chosen, chosen])
    except ValueError:        # not even BTC has a number (too little history)
        return None


def no_number_reasons(repo: Repository, result: CorrelationResult) -> dict[str, str]:
    """Why each asset without a correlation to BTC has none (e.g. its series ended)."""
    to_btc = result.matrix[BTC].drop(BTC)
    missing = [str(s) for s, v in to_btc.items() if pd.isna(v)]
    if not missing:
        return {}
    # Only the assets without a number: their last close says whether the series ended.
    last = repo.load_closes(missing).apply(pd.Series.last_valid_index).reindex(missing)
    out = {}
    for symbol in missing:
        n = int(result.n_obs.at[symbol, BTC])
        ended = last[symbol]
        if ended is None or pd.isna(ended):
            out[symbol] = "no stored price history"
        elif ended < result.as_of - timedelta(days=7):
            out[symbol] = f"series ended {ended:%Y-%m-%d}"
        else:
            out[symbol] = f"{n} common daily returns with BTC (need {result.min_obs})"
    return out


def diversification(repo: Repository, settings: Settings, *, lookback_days: int = 90,
                    threshold: float = 0.5) -> Diversification:
    """Assets below ``threshold`` correlation to BTC, spread over categories (held or not).

    Raises:
        ValueError: no BTC close stored, or a threshold outside [-1, 1].
        DataError: the store cannot be read.
    """
    result = universe_correlation(repo, settings, lookback_days)
    categories = categories_from_assets(settings.assets)
    selection = select_low_btc_correlation(result, categories, threshold=threshold)
    held = frozenset(s for s, q in repo.load_holdings(settings.portfolio.name).items() if q > 0)
    return Diversification(result=result, selection=selection, categories=categories,
                           held=held, effective_bets_current=_current_bets(result, held),
                           no_number=no_number_reasons(repo, result))
