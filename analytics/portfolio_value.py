"""Value a portfolio in BTC now, and revalue it with other quantities (pure).

The valuation rule (``value_portfolio``, docs/valuation.md): each asset at its own newest
price at or before *now*, divided by BTC's newest price at or before *now*; stale prices are
kept and flagged. Daily history (analytics/portfolio_history.py) uses the closes as of each day.

Latest-price frame (input of ``value_portfolio``), one or more candidate rows per symbol:
    symbol str, price_usd float, ts datetime64[UTC], source str, kind "close" | "quote"

``PortfolioValuation.assets``, one row per holding, in holdings order:
    symbol str, quantity float, price_usd float, price_btc float, value_btc float,
    value_usd float, value_sats int, weight float (share of value_btc, sums to 1),
    price_ts datetime64[UTC], source str, stale bool
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from analytics.asof import AsOfRows, to_utc_index
from analytics.btc_converter import BTCConverter
from analytics.staleness import (
    DEFAULT_LIMITS,
    NO_PRICE,
    OK,
    STALE,
    NoPriceError,
    StalenessLimits,
)
from analytics.units import BTC, SATS_PER_BTC

logger = logging.getLogger(__name__)

ASSET_COLUMNS = ["symbol", "quantity", "price_usd", "price_btc", "value_btc", "value_usd",
                 "value_sats", "weight", "price_ts", "source", "stale"]
__all__ = ["PortfolioValuation", "StalenessLimits", "revalue", "value_portfolio"]


@dataclass(frozen=True)
class PortfolioValuation:
    """A portfolio valued in BTC at ``now``; ``as_of`` is the time of the BTC price used."""

    as_of: pd.Timestamp
    btc_usd: float
    total_btc: float
    btc_allocation: float
    assets: pd.DataFrame  # schema in the module docstring
    # Held assets with no price at or before now (e.g. just added, history not yet fetched):
    # left out of the totals and named here, so one missing price never hides the rest.
    unpriced: tuple[str, ...] = ()
    btc_source: str = ""     # source of the BTC price used (a BTC row added by a plan uses it)
    btc_stale: bool = False  # the BTC price is past its limit: every BTC value is in doubt

    @property
    def total_usd(self) -> float:
        """Value in USD at the same prices (total_btc × btc_usd)."""
        return self.total_btc * self.btc_usd


def value_portfolio(holdings: Mapping[str, float], latest: pd.DataFrame, *,
                    asset_kinds: Mapping[str, str], now: datetime,
                    limits: StalenessLimits = DEFAULT_LIMITS) -> PortfolioValuation:
    """Value holdings in BTC now: the one valuation rule of every reader (docs/valuation.md).

    Each asset is priced at **its own** newest price (quote or close) at or before ``now``,
    converted with BTC's newest price at or before ``now``; ``as_of`` is the time of that BTC
    price. Quotes of one refresh stamped seconds apart (ETH a few seconds after BTC) are all
    used, and an asset whose newest close is later than BTC's newest price is still valued.
    ``stale`` is set when the asset's price, or BTC's, is older than its class's limit at
    ``now``; a stale asset keeps its value (flagged), it is never dropped.

    A held asset with no price at or before ``now`` is left out of the totals and listed in
    ``unpriced``.

    Raises:
        NoPriceError (a ValueError): no BTC price at or before ``now``.
    """
    conv = BTCConverter(latest=latest, asset_kinds=asset_kinds, limits=limits)
    at = to_utc_index(now)[0]
    btc = conv.asof_rows([BTC], at)
    if btc.status[0] == NO_PRICE:
        raise NoPriceError("no BTC price stored: cannot value anything in BTC")
    # One as-of lookup for all holdings at now (a frame per holding would cost far more).
    found = conv.asof_rows(list(holdings), at)
    priced = found.status != NO_PRICE
    symbols = np.array(found.symbols, dtype=object)[priced]
    quantity = np.array([float(holdings[s]) for s in symbols], dtype=float)
    btc_stale = bool(btc.status[0] != OK)
    stale = (found.status[priced] != OK) | btc_stale
    return _valuation(symbols, quantity, found.price_usd[priced], btc=btc,
                      price_ts=found.price_ts[priced], source=found.source[priced], stale=stale,
                      unpriced=tuple(s for s, ok in zip(found.symbols, priced, strict=True)
                                     if not ok))


def _valuation(symbols: np.ndarray, quantity: np.ndarray, price_usd: np.ndarray, *,
               btc: AsOfRows, price_ts: object, source: np.ndarray, stale: np.ndarray,
               unpriced: tuple[str, ...]) -> PortfolioValuation:
    """The valuation frame and totals from per-asset prices and BTC's as-of row."""
    btc_usd = float(btc.price_usd[0])
    price_btc = price_usd / btc_usd
    value_btc = quantity * price_btc
    total = float(value_btc.sum())
    frame = pd.DataFrame({
        "symbol": symbols, "quantity": quantity, "price_usd": price_usd, "price_btc": price_btc,
        "value_btc": value_btc, "value_usd": quantity * price_usd,
        "value_sats": np.round(value_btc * SATS_PER_BTC).astype("int64"),
        "weight": value_btc / total if total > 0 else np.zeros(len(symbols)),
        "price_ts": price_ts, "source": source,
        "stale": np.asarray(stale, dtype=bool)}, columns=ASSET_COLUMNS)
    btc_alloc = float(value_btc[symbols == BTC].sum()) / total if total > 0 else 0.0
    return PortfolioValuation(as_of=btc.price_ts[0], btc_usd=btc_usd, total_btc=total,
                              btc_allocation=btc_alloc, assets=frame, unpriced=unpriced,
                              btc_source=str(btc.source[0]), btc_stale=bool(btc.status[0] != OK))


def revalue(valuation: PortfolioValuation, quantities: Mapping[str, float]) -> PortfolioValuation:
    """The same valuation (same prices, times, sources, flags) with other quantities.

    For a plan's "after": every symbol keeps the price it was valued at; BTC, when it was not
    held, is priced at 1 BTC with the BTC price's time, source and flag.

    Raises:
        ValueError: a symbol of ``quantities`` has no price in ``valuation``.
    """
    assets = valuation.assets
    row = {s: i for i, s in enumerate(assets["symbol"].tolist())}  # no frame indexing: per tick
    unknown = sorted(set(quantities) - set(row) - {BTC})
    if unknown:
        raise ValueError(f"no price for {', '.join(unknown)} in this valuation")
    symbols = np.array(list(quantities), dtype=object)
    rows = [row.get(s) for s in quantities]
    btc_ts = pd.Timestamp(valuation.as_of)

    def column(name: str, btc_value: object) -> list:
        values = assets[name].tolist()  # one lookup per column, not per symbol
        return [btc_value if r is None else values[r] for r in rows]

    btc = AsOfRows(symbols=[BTC], price_usd=np.array([valuation.btc_usd]),
                   ts_ns=np.array([btc_ts.value], dtype=np.int64),
                   price_kind=np.array([None], dtype=object),
                   source=np.array([valuation.btc_source], dtype=object),
                   status=np.array([STALE if valuation.btc_stale else OK], dtype=object))
    return _valuation(symbols, np.array([float(quantities[s]) for s in symbols]),
                      np.array(column("price_usd", valuation.btc_usd), dtype=float), btc=btc,
                      price_ts=pd.DatetimeIndex(column("price_ts", btc_ts)),
                      source=np.array(column("source", valuation.btc_source), dtype=object),
                      stale=np.array(column("stale", valuation.btc_stale), dtype=bool),
                      unpriced=valuation.unpriced)
