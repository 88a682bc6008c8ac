"""Read side of /api/correlation/rolling and the drift chart: rolling correlation to BTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from analytics.correlation import rolling_btc_correlation
from analytics.units import BTC
from data.store.repository import Repository
from settings import Settings


@dataclass(frozen=True)
class CorrelationDrift:
    """Rolling correlation of each held asset to BTC, one column per asset, NaN: no number."""

    window_days: int
    frame: pd.DataFrame
    left_out: tuple[str, ...] = ()  # held assets not in ``frame`` (``top``: the smaller ones)


def correlation_drift(repo: Repository, settings: Settings, *, window_days: int = 90,
                      days: int = 365, top: int | None = None) -> CorrelationDrift:
    """Rolling ``window_days`` correlation to BTC of every held asset over the last ``days``.

    ``top``: only the ``top`` largest holdings by BTC value at their newest stored closes
    (the drift chart's lines); None: all (the API).

    Raises:
        ValueError: no BTC close stored.
        DataError: the store cannot be read.
    """
    held = sorted(s for s, q in repo.load_holdings(settings.portfolio.name).items()
                  if q > 0 and s != BTC)
    newest = repo.load_closes([BTC]).index.max()
    if pd.isna(newest):
        raise ValueError("no BTC close stored: no window for the correlation")
    start = newest - timedelta(days=days + window_days + 1)
    closes = repo.load_closes([BTC, *held], start=start).reindex(
        columns=[BTC, *held])
    left_out: list[str] = []
    if top is not None and len(held) > top:
        kept = _largest(closes, repo.load_holdings(settings.portfolio.name), held, top)
        left_out = [s for s in held if s not in kept]
        closes = closes[[BTC, *kept]]
    rolling = rolling_btc_correlation(closes, window_days)
    shown = rolling.loc[rolling.index > newest - timedelta(days=days)]
    return CorrelationDrift(window_days=window_days, frame=shown, left_out=tuple(left_out))


def _largest(closes: pd.DataFrame, holdings: dict[str, float], held: list[str],
             top: int) -> list[str]:
    """The ``top`` held symbols of largest value, in ``held`` order.

    Value is quantity × newest close in USD (the same order as in BTC); an asset without a
    close ranks last.
    """
    last = closes[held].ffill().iloc[-1].fillna(0.0)
    value = pd.Series({s: holdings.get(s, 0.0) * float(last[s]) for s in held})
    kept = set(value.sort_values(ascending=False, kind="stable").index[:top])
    return [s for s in held if s in kept]
