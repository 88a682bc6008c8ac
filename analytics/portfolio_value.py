"""Value a portfolio in BTC: latest valuation, JSON payload, and the full BTC report (pure).

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
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from analytics.btc_converter import (
    BTC,
    DEFAULT_CACHE,
    DEFAULT_LIMITS,
    NO_PRICE,
    OK,
    AsOfRows,
    BTCConverter,
    ConversionCache,
    NoPriceError,
    StalenessLimits,
    to_utc_index,
)
from analytics.portfolio_history import ValueHistory, portfolio_value_history
from analytics.returns import (
    PERIODS,
    Drawdown,
    annualized_volatility,
    decompose_btc_return,
    growth_index,
    max_drawdown,
    period_returns,
)

logger = logging.getLogger(__name__)

SATS_PER_BTC = 100_000_000
ASSET_COLUMNS = ["symbol", "quantity", "price_usd", "price_btc", "value_btc", "value_usd",
                 "value_sats", "weight", "price_ts", "source", "stale"]
__all__ = ["SATS_PER_BTC", "PortfolioReport", "PortfolioValuation", "StalenessLimits",
           "calculate_portfolio_value_in_btc", "portfolio_payload", "return_decomposition",
           "value_portfolio"]


@dataclass(frozen=True)
class PortfolioValuation:
    """A portfolio valued in BTC at ``as_of`` (the time of the BTC price used)."""

    as_of: pd.Timestamp
    btc_usd: float
    total_btc: float
    btc_allocation: float
    assets: pd.DataFrame  # schema in the module docstring
    # Held assets with no price at or before as_of (e.g. just added, history not yet fetched):
    # left out of the totals and named here, so one missing price never hides the rest.
    unpriced: tuple[str, ...] = ()

    @property
    def total_usd(self) -> float:
        """Value in USD at the same prices (total_btc × btc_usd)."""
        return self.total_btc * self.btc_usd


def value_portfolio(holdings: Mapping[str, float], latest: pd.DataFrame, *,
                    asset_kinds: Mapping[str, str], now: datetime,
                    limits: StalenessLimits = DEFAULT_LIMITS) -> PortfolioValuation:
    """Value holdings in BTC at the time of the newest BTC price.

    Every asset is priced at its latest price at or before ``as_of`` (never a later one).
    ``stale`` is set when that price, or the BTC price, is older than its limit relative to
    ``as_of`` or ``now``; a stale asset keeps its value (flagged), it is not dropped.

    A held asset with no price at or before ``as_of`` is left out of the totals and listed
    in ``unpriced``.

    Raises:
        NoPriceError (a ValueError): no BTC price at all.
    """
    # The latest frame changes on every refresh: caching it would only fill the cache.
    conv = BTCConverter(latest=latest, asset_kinds=asset_kinds, limits=limits, cache=None)
    as_of = conv.last_price_ts(BTC)
    if as_of is None:
        raise NoPriceError("no BTC price stored: cannot value anything in BTC")
    now_ns = to_utc_index(now).asi8[0]
    # One as-of lookup for all holdings at as_of (a frame per holding would cost far more).
    btc = conv.asof_rows([BTC], as_of)
    btc_usd = float(btc.price_usd[0])
    btc_now_stale = _stale_at(conv, btc, now_ns)[0]
    found = conv.asof_rows(list(holdings), as_of)
    priced = found.status != NO_PRICE
    unpriced = [s for s, ok in zip(found.symbols, priced, strict=True) if not ok]
    symbols = np.array(found.symbols, dtype=object)[priced]
    quantity = np.array([float(holdings[s]) for s in symbols], dtype=float)
    price_usd = found.price_usd[priced]
    price_btc = price_usd / btc_usd
    stale = (found.status[priced] != OK) | btc_now_stale | _stale_at(conv, found, now_ns)[priced]
    value_btc = quantity * price_btc
    total = float(value_btc.sum())
    frame = pd.DataFrame({
        "symbol": symbols, "quantity": quantity, "price_usd": price_usd, "price_btc": price_btc,
        "value_btc": value_btc, "value_usd": quantity * price_usd,
        "value_sats": np.round(value_btc * SATS_PER_BTC).astype("int64"),
        "weight": value_btc / total if total > 0 else np.zeros(len(symbols)),
        "price_ts": found.price_ts[priced], "source": found.source[priced],
        "stale": stale.astype(bool)}, columns=ASSET_COLUMNS)
    btc_alloc = float(value_btc[symbols == BTC].sum()) / total if total > 0 else 0.0
    return PortfolioValuation(as_of=as_of, btc_usd=btc_usd, total_btc=total,
                              btc_allocation=btc_alloc, assets=frame, unpriced=tuple(unpriced))


def _stale_at(conv: BTCConverter, rows: AsOfRows, now_ns: int) -> np.ndarray:
    """Whether each as-of price is past its limit (by asset and price kind) read at ``now``."""
    limits = np.array([
        conv.limits.limit(conv.asset_kinds.get(s, "crypto"), k) // timedelta(microseconds=1)
        * 1000 for s, k in zip(rows.symbols, rows.price_kind, strict=True)], dtype=np.int64)
    # A missing price (NaT) is not "stale" here: it is unpriced.
    return (rows.ts_ns != np.iinfo(np.int64).min) & (now_ns - rows.ts_ns > limits)


def portfolio_payload(valuation: PortfolioValuation) -> dict:
    """JSON body of ``GET /api/portfolio`` (plain floats/ints/str/bool; NaN never emitted).

    ``{"portfolio_value_btc", "value_usd", "holdings": {symbol: value_btc}, "btc_allocation",
    "as_of", "btc_usd", "assets": [{symbol, quantity, price_usd, price_btc, value_btc,
    value_usd, value_sats, weight, price_ts, source, stale}, ...]}``; times are ISO-8601 UTC;
    ``value_sats`` is a whole number of satoshis (rounded).
    """
    assets = [{
        "symbol": str(r.symbol), "quantity": float(r.quantity), "price_usd": float(r.price_usd),
        "price_btc": float(r.price_btc), "value_btc": float(r.value_btc),
        "value_usd": float(r.value_usd), "value_sats": int(r.value_sats),
        "weight": float(r.weight), "price_ts": pd.Timestamp(r.price_ts).isoformat(),
        "source": str(r.source), "stale": bool(r.stale),
    } for r in valuation.assets.itertuples(index=False)]
    return {"portfolio_value_btc": float(valuation.total_btc),
            "value_usd": float(valuation.total_usd),
            "holdings": {a["symbol"]: a["value_btc"] for a in assets},
            "btc_allocation": float(valuation.btc_allocation),
            "as_of": valuation.as_of.isoformat(), "btc_usd": float(valuation.btc_usd),
            "assets": assets, "unpriced": list(valuation.unpriced)}


def return_decomposition(converter: BTCConverter, symbols: list[str], *, end: pd.Timestamp,
                         periods: Mapping[str, int] = PERIODS) -> pd.DataFrame:
    """Each asset's BTC return over each period, split into USD return and BTC/USD move.

    Prices are the as-of closes at ``end`` and ``end - days``; a pair with a stale or missing
    end gives NaN returns and ``complete`` False.

    Returns:
        Long frame: symbol, period, usd_return, btc_usd_return, btc_return, usd_effect,
        btc_effect, complete (see ``returns.decompose_btc_return``).
    """
    labels = list(periods)
    starts = pd.DatetimeIndex([end - pd.Timedelta(days=periods[k]) for k in labels])
    ends = pd.DatetimeIndex([end] * len(labels))
    btc0, btc1 = converter.asof(BTC, starts), converter.asof(BTC, ends)
    parts = []
    for symbol in symbols:
        p0, p1 = converter.asof(symbol, starts), converter.asof(symbol, ends)
        ok = ((p0["status"].to_numpy() == OK) & (p1["status"].to_numpy() == OK)
              & (btc0["status"].to_numpy() == OK) & (btc1["status"].to_numpy() == OK))
        usd = pd.Series(p1["price_usd"].to_numpy() / p0["price_usd"].to_numpy() - 1.0)
        btc = pd.Series(btc1["price_usd"].to_numpy() / btc0["price_usd"].to_numpy() - 1.0)
        part = decompose_btc_return(usd.where(ok), btc.where(ok))
        part.insert(0, "period", labels)
        part.insert(0, "symbol", symbol)
        part["complete"] = ok
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["symbol", "period", "usd_return", "btc_usd_return", "btc_return",
                 "usd_effect", "btc_effect", "complete"])


@dataclass(frozen=True)
class PortfolioReport:
    """Everything the dashboard shows, in BTC terms.

    ``period_returns``: label ("24h", "7d", "30d", "90d", "1y") -> BTC return or None.
    ``volatility``: annualized (365) std of daily BTC returns over the risk window, or None.
    ``drawdown``: max drawdown of the BTC growth over the risk window, with its dates.
    ``decomposition``: see ``return_decomposition``.
    """

    valuation: PortfolioValuation
    history: ValueHistory
    period_returns: dict[str, float | None]
    volatility: float | None
    drawdown: Drawdown
    decomposition: pd.DataFrame


def calculate_portfolio_value_in_btc(holdings: Mapping[str, float], closes: pd.DataFrame,
                                     latest: pd.DataFrame, *, asset_kinds: Mapping[str, str],
                                     now: datetime, limits: StalenessLimits = DEFAULT_LIMITS,
                                     risk_window_days: int = 365,
                                     cache: ConversionCache | None = DEFAULT_CACHE
                                     ) -> PortfolioReport:
    """Value holdings in BTC now and over their daily history, with BTC returns and risk.

    Args:
        holdings: symbol -> quantity (held constant over the history).
        closes: wide daily USD closes (``Repository.load_closes()``).
        latest: latest-price candidates (``Repository.load_latest_prices()``).
        asset_kinds: symbol -> "crypto" | "equity".
        now: the current time (staleness of the latest prices).
        limits: staleness limits (``StalenessLimits.from_settings(settings.staleness)``).
        risk_window_days: trailing days used for volatility and drawdown.
        cache: as-of cache shared across refreshes (history is not recomputed when unchanged).

    Raises:
        NoPriceError (a ValueError): no BTC price, or a holding without any price.
    """
    valuation = value_portfolio(holdings, latest, asset_kinds=asset_kinds, now=now, limits=limits)
    converter = BTCConverter(closes, asset_kinds=asset_kinds, limits=limits, cache=cache)
    history = portfolio_value_history(holdings, converter)
    returns = history.daily["return_btc"]
    # Risk window: the growth from its first day (the base) to the last; returns after the base.
    growth = growth_index(returns)
    base = returns.index[-1] - pd.Timedelta(days=risk_window_days)
    return PortfolioReport(
        valuation=valuation, history=history, period_returns=period_returns(returns),
        volatility=annualized_volatility(returns.loc[returns.index > base]),
        drawdown=max_drawdown(growth.loc[growth.index >= base]),
        decomposition=return_decomposition(converter, list(holdings), end=history.daily.index[-1]))
