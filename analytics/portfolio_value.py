"""Value a portfolio in BTC from the latest stored prices (pure: no IO).

Latest-price frame (input), one or more candidate rows per symbol:
    symbol str, price_usd float, ts datetime64[UTC], source str, kind "close" | "quote"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

SATS_PER_BTC = 100_000_000


@dataclass(frozen=True)
class StalenessLimits:
    """How old a price may be before it is flagged stale."""

    crypto_quote: timedelta = timedelta(minutes=10)
    crypto_daily: timedelta = timedelta(days=1)
    equity_daily: timedelta = timedelta(days=4)

    def limit(self, asset_kind: str, price_kind: str) -> timedelta:
        """Limit for an asset class ("crypto"/"equity") and price kind ("quote"/"close")."""
        if asset_kind == "crypto":
            return self.crypto_quote if price_kind == "quote" else self.crypto_daily
        return self.equity_daily


@dataclass(frozen=True)
class PortfolioValuation:
    """A portfolio valued in BTC at `as_of` (the time of the BTC price used)."""

    as_of: pd.Timestamp
    btc_usd: float
    total_btc: float
    btc_allocation: float
    assets: pd.DataFrame  # symbol quantity price_usd price_btc value_btc value_usd weight price_ts source stale


def value_portfolio(holdings: Mapping[str, float], latest: pd.DataFrame, *,
                    asset_kinds: Mapping[str, str], now: datetime,
                    limits: StalenessLimits = StalenessLimits()) -> PortfolioValuation:
    """Value holdings in BTC at the time of the newest BTC price.

    Every asset is priced at its latest price at or before ``as_of`` (never a later one).
    ``stale`` is set when that price is older than its limit relative to ``as_of`` or ``now``.

    Raises:
        ValueError: no BTC price, or a held asset has no price at or before ``as_of``.
    """
    btc = latest[latest["symbol"] == "BTC"]
    if btc.empty:
        raise ValueError("no BTC price stored: cannot value anything in BTC")
    btc_row = btc.loc[btc["ts"].idxmax()]
    as_of, btc_usd = btc_row["ts"], float(btc_row["price_usd"])
    now_ts = pd.Timestamp(now)
    rows = []
    for symbol, quantity in holdings.items():
        cands = latest[(latest["symbol"] == symbol) & (latest["ts"] <= as_of)]
        if cands.empty:
            raise ValueError(f"no price for {symbol} at or before {as_of.isoformat()}")
        row = cands.loc[cands["ts"].idxmax()]
        limit = limits.limit(asset_kinds.get(symbol, "crypto"), row["kind"])
        stale = bool(as_of - row["ts"] > limit or now_ts - row["ts"] > limit)
        price_btc = float(row["price_usd"]) / btc_usd
        rows.append({"symbol": symbol, "quantity": float(quantity),
                     "price_usd": float(row["price_usd"]), "price_btc": price_btc,
                     "value_btc": float(quantity) * price_btc,
                     "value_usd": float(quantity) * float(row["price_usd"]),
                     "price_ts": row["ts"], "source": row["source"], "stale": stale})
    frame = pd.DataFrame(rows, columns=["symbol", "quantity", "price_usd", "price_btc", "value_btc",
                                        "value_usd", "price_ts", "source", "stale"])
    total = float(frame["value_btc"].sum())
    frame["weight"] = frame["value_btc"] / total if total > 0 else 0.0
    btc_alloc = float(frame.loc[frame["symbol"] == "BTC", "weight"].sum()) if total > 0 else 0.0
    return PortfolioValuation(as_of=as_of, btc_usd=btc_usd, total_btc=total,
                              btc_allocation=btc_alloc, assets=frame)
