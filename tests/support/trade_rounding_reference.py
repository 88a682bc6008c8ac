"""Test-only reference: ``analytics.trade_rounding.round_legs`` before the numpy rewrite.

Practical trade sizes (pure): whole lots per asset and a smallest trade worth placing.

A rebalance first solves exact legs (a value in BTC per non-BTC symbol). A broker, though, sells
ETFs and stocks in whole shares and a $4 trade costs more in attention than it is worth, so
``round_legs`` turns the exact legs into legs that can be placed:

* a symbol with a lot size gets its quantity **floored** to whole lots. Flooring (never rounding
  up) keeps every trade feasible: a sale never exceeds the holding and a purchase never spends
  more BTC than the exact plan set aside;
* a leg worth less than ``min_trade_usd`` (after rounding) or ``min_trade_btc`` is skipped.

Whatever is not traded stays where it was (in BTC or in the asset), so value is conserved and
only the BTC share misses its target, by the reported ``rounding_btc``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

SKIPPED_COLUMNS = ["symbol", "side", "quantity", "value_btc", "value_usd", "reason"]
# A quantity within this many lots below a whole number is that whole number (float noise:
# 0.3 / 0.1 is 2.9999999999999996).
LOT_EPSILON = 1e-9


@dataclass(frozen=True)
class RoundedLegs:
    """Legs that can be placed, those skipped (SKIPPED_COLUMNS) and the value not traded."""

    legs: pd.Series
    skipped: pd.DataFrame
    rounding_btc: float


def check_lot_sizes(lot_sizes: Mapping[str, float] | None) -> dict[str, float]:
    """Validated ``{symbol: lot}`` (finite, > 0).

    Raises:
        ValueError: a lot size that is not a positive finite number.
    """
    out = {}
    for symbol, lot in (lot_sizes or {}).items():
        lot = float(lot)
        if not math.isfinite(lot) or lot <= 0:
            raise ValueError(f"lot size of {symbol} must be a positive number, got {lot}")
        out[symbol] = lot
    return out


def _skip_reason(symbol: str, planned_qty: float, placed_value_usd: float, *, lot: float | None,
                 price_usd: float, min_trade_usd: float, below_min_btc: bool) -> str | None:
    if lot is not None and placed_value_usd <= 0:
        return (f"less than one lot: {planned_qty:.6g} {symbol} planned, lot size {lot:g} "
                f"(one lot ≈ ${lot * price_usd:,.2f})")
    if placed_value_usd < min_trade_usd:
        return f"below the minimum trade: ${placed_value_usd:,.2f} < ${min_trade_usd:,.2f}"
    if below_min_btc:
        return "below min_trade_btc"
    return None


def round_legs(legs: pd.Series, prices: pd.DataFrame, *, side: str,
               lot_sizes: Mapping[str, float], min_trade_usd: float,
               min_trade_btc: float = 0.0) -> RoundedLegs:
    """Floor legs to whole lots and drop those too small to place.

    Args:
        legs: exact value in BTC per non-BTC symbol (> 0).
        prices: ``price_btc`` and ``price_usd`` indexed by symbol, covering the legs.
        side: "buy" or "sell" (the side of these non-BTC legs, for the skipped list).
        lot_sizes: validated ``{symbol: lot}`` (see ``check_lot_sizes``).
        min_trade_usd: smallest leg placed, in USD.
        min_trade_btc: smallest leg placed, in BTC.

    Returns:
        RoundedLegs; ``rounding_btc`` = planned value - placed value (>= 0).
    """
    kept, skipped = {}, []
    # One lookup per column, not a DataFrame .at per leg (1,000 legs at 1,000 assets).
    prices_btc = prices["price_btc"].reindex(legs.index).to_numpy(dtype=float)
    prices_usd = prices["price_usd"].reindex(legs.index).to_numpy(dtype=float)
    for symbol, value, price_btc, price_usd in zip(legs.index, legs.to_numpy(dtype=float),
                                                    prices_btc, prices_usd, strict=True):
        price_btc, price_usd = float(price_btc), float(price_usd)
        planned_qty = float(value) / price_btc
        lot = lot_sizes.get(symbol)
        placed = (math.floor(planned_qty / lot + LOT_EPSILON) * lot * price_btc
                  if lot is not None else float(value))
        reason = _skip_reason(symbol, planned_qty, placed * price_usd / price_btc, lot=lot,
                              price_usd=price_usd, min_trade_usd=min_trade_usd,
                              below_min_btc=placed < min_trade_btc)
        if reason is None:
            kept[symbol] = placed
        else:
            skipped.append({"symbol": symbol, "side": side, "quantity": planned_qty,
                            "value_btc": float(value), "value_usd": planned_qty * price_usd,
                            "reason": reason})
    placed_legs = pd.Series(kept, dtype="float64")
    return RoundedLegs(legs=placed_legs,
                       skipped=pd.DataFrame(skipped, columns=SKIPPED_COLUMNS),
                       rounding_btc=max(float(legs.sum()) - float(placed_legs.sum()), 0.0))
