"""Two-sided rebalance to a full target mix (pure: no IO).

``analytics.rebalancing.rebalance_to_btc`` moves value between BTC and the rest, one way per
plan. ``rebalance_to_weights`` takes a target weight for **every** asset (BTC included, e.g.
the optimizer's proposal) and in one plan sells the overweight assets and buys the underweight
ones, whatever they are, with BTC as the counter asset of each swap.

Same trade model, shape and rules as ``rebalance_to_btc``:

* every non-BTC trade is a swap against BTC costing ``fee_bps`` of the value **given up**:
  selling an asset worth ``v`` gives ``v (1 - f)`` BTC (fee ``v f``); buying an asset worth
  ``v`` costs ``v / (1 - f)`` BTC (fee ``v f / (1 - f)``). A switch between two non-BTC
  assets so pays two swaps, as at a broker that quotes everything against BTC. The fee is on
  the non-BTC leg's row; the BTC row is the net BTC bought or sold;
* legs are floored to whole lots (``lot_sizes``) and legs worth less than ``min_trade_usd`` /
  ``min_trade_btc`` are skipped, listed with the reason (``analytics.trade_rounding``);
* ``frozen`` holdings (stale or unpriced) keep their value and are never traded: the other
  non-BTC assets share what is left in proportion to their target weights.

Conservation: the value bought equals the value sold less the fees, exactly in the algebra
(the BTC row is the balance) and to float rounding in the numbers. Without rounding the
portfolio after the plan holds the target weights (frozen assets aside) and BTC is at its
target share; with it, each weight misses by at most what was left untraded (``rounding_btc``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from analytics.rebalancing import (
    BTC,
    SATS_PER_BTC,
    SHARE_TOLERANCE,
    TRADE_COLUMNS,
    RebalancePlan,
    _finite,
    _holdings_frame,
    _price_table,
)
from analytics.trade_rounding import SKIPPED_COLUMNS, RoundedLegs, check_lot_sizes, round_legs

logger = logging.getLogger(__name__)

# Sign patterns tried when solving the value after fees (each try fixes one more asset).
_MAX_SOLVE_ROUNDS = 100


def _check_mix(weights: Mapping[str, float], table: pd.DataFrame,
               frozen: set[str]) -> dict[str, float]:
    out = {str(s): _finite(f"target weight of {s}", w, 0.0, 1.0) for s, w in weights.items()}
    if abs(sum(out.values()) - 1.0) > 1e-9:
        raise ValueError(f"target weights must sum to 1, got {sum(out.values())}")
    unpriced = sorted(s for s, w in out.items()
                      if w > 0 and s not in frozen and s not in table.index)
    if unpriced:
        raise ValueError(f"no price for target asset(s) {', '.join(unpriced)}")
    return out


def _quantities(holdings: Mapping[str, float], weights: dict[str, float],
                table: pd.DataFrame, frozen: set[str]) -> pd.Series:
    """Quantities of BTC, every holding and every target asset to buy (0 where not held)."""
    wanted = (s for s, w in weights.items() if w > 0 and s not in frozen)
    symbols = list(dict.fromkeys([BTC, *holdings, *wanted]))
    qty = pd.Series(0.0, index=pd.Index(symbols, dtype=object))
    for symbol, quantity in holdings.items():
        qty[symbol] = _finite(f"quantity of {symbol}", quantity, 0.0, math.inf)
    unpriced = sorted(s for s in symbols if s not in table.index)
    if unpriced:
        raise ValueError(f"no price for held asset(s) {', '.join(unpriced)}")
    return qty


def _shares(weights: dict[str, float], tradeable: list[str], need: bool) -> pd.Series:
    """Each tradeable non-BTC asset's share of the tradeable non-BTC value after the plan."""
    w = pd.Series({s: weights.get(s, 0.0) for s in tradeable}, dtype="float64")
    if w.sum() > 0:
        return w / w.sum()
    if need:
        raise ValueError("the target mix puts value outside BTC but no tradeable asset has a "
                         "target weight (every one is frozen or absent)")
    return w


def _solve_after_value(total: float, values: pd.Series, alpha: pd.Series, beta: pd.Series,
                       fee: float) -> float:
    """Total value after fees V' when tradeable asset i (now ``values_i``) ends at
    ``alpha_i V' + beta_i`` (``total``: the whole portfolio's value before).

    fees(V') = f * sum over sells (v - a) + f/(1-f) * sum over buys (a - v), linear in V'
    once the sign pattern is known: solve it, re-check the pattern, repeat until stable.
    """
    if fee == 0.0:
        return total
    g = fee / (1.0 - fee)
    v, a, b = (x.to_numpy(dtype="float64") for x in (values, alpha, beta))
    after = total
    for _ in range(_MAX_SOLVE_ROUNDS):
        k = np.where(a * after + b - v > 0, -g, fee)   # fee per unit of (v - a) on each side
        solved = (total - float(k @ (v - b))) / (1.0 - float(k @ a))
        if math.isclose(solved, after, rel_tol=1e-15, abs_tol=0.0):
            return solved
        after = solved
    logger.warning("rebalance to weights: fee solve did not settle, using the last value")
    return after


def _exact_legs(values: pd.Series, weights: dict[str, float], tradeable: list[str],
                frozen_value: float, fee: float) -> pd.Series:
    """Exact signed legs (value to buy > 0, to sell < 0) per tradeable asset."""
    target_btc = weights.get(BTC, 0.0)
    v = values.reindex(tradeable)
    room = float(values.sum()) * (1.0 - target_btc) - frozen_value
    shares = _shares(weights, tradeable, need=room > 0)
    if room > 0:
        alpha, beta = shares * (1.0 - target_btc), -shares * frozen_value
    else:  # frozen assets alone exceed the non-BTC part: sell every tradeable one
        alpha, beta = shares * 0.0, shares * 0.0
    after = _solve_after_value(float(values.sum()), v, alpha, beta, fee)
    legs = (alpha * after + beta).clip(lower=0.0) - v
    noise = legs.abs() <= SHARE_TOLERANCE * float(values.sum())
    return legs[~noise]


def _rounded(legs: pd.Series, btc: float, table: pd.DataFrame, fee: float, lots: dict,
             min_usd: float, min_btc: float) -> tuple[RoundedLegs, RoundedLegs]:
    """Sells rounded first; then buys, scaled down if the rounded sells fund less BTC."""
    rules = {"lot_sizes": lots, "min_trade_usd": min_usd, "min_trade_btc": min_btc}
    sells = round_legs(-legs[legs < 0], table, side="sell", **rules)
    wanted = legs[legs > 0]
    budget = (btc + float(sells.legs.sum()) * (1.0 - fee)) * (1.0 - fee)
    scale = min(1.0, budget / float(wanted.sum())) if wanted.sum() > 0 else 1.0
    buys = round_legs(wanted * scale, table, side="buy", **rules)
    return sells, buys


def _trade_rows(sells: pd.Series, buys: pd.Series, btc_net: float, table: pd.DataFrame,
                btc_usd: float, fee: float) -> pd.DataFrame:
    """Sells (largest first), the net BTC leg, then buys (largest first)."""
    rows = [{"symbol": s, "side": "sell", "value_btc": v, "fee_btc": v * fee}
            for s, v in sells.sort_values(ascending=False).items()]
    if btc_net != 0.0:
        rows.append({"symbol": BTC, "side": "buy" if btc_net > 0 else "sell",
                     "value_btc": abs(btc_net), "fee_btc": 0.0})
    rows += [{"symbol": s, "side": "buy", "value_btc": v, "fee_btc": v * fee / (1.0 - fee)}
             for s, v in buys.sort_values(ascending=False).items()]
    frame = pd.DataFrame(rows, columns=["symbol", "side", "value_btc", "fee_btc"])
    frame["price_btc"] = table.loc[frame["symbol"], "price_btc"].to_numpy()
    frame["quantity"] = frame["value_btc"] / frame["price_btc"]
    frame["value_sats"] = (frame["value_btc"] * SATS_PER_BTC).round().astype("int64")
    frame["value_usd"] = frame["value_btc"] * btc_usd
    return frame[TRADE_COLUMNS]


def _after_quantities(qty: pd.Series, sells: pd.Series, buys: pd.Series, btc_net: float,
                      table: pd.DataFrame) -> pd.Series:
    new = qty.copy()
    if len(sells):
        sold = sells / table.loc[sells.index, "price_btc"]
        # A whole position sold leaves exactly 0 (not -1e-18, nor 1e-18 of dust).
        left = qty[sells.index] - sold
        new[sells.index] = left.where(left > qty[sells.index] * 1e-12, 0.0)
    if len(buys):
        new[buys.index] = qty[buys.index] + buys / table.loc[buys.index, "price_btc"]
    new[BTC] = max(float(qty[BTC]) + btc_net, 0.0)
    return new


def rebalance_to_weights(holdings: Mapping[str, float], prices: pd.DataFrame,
                         target_weights: Mapping[str, float], *, fee_bps: float = 0.0,
                         min_trade_btc: float = 0.0, min_trade_usd: float = 0.0,
                         lot_sizes: Mapping[str, float] | None = None,
                         frozen: Iterable[str] = ()) -> RebalancePlan:
    """Sells of the overweight and buys of the underweight assets that reach a full mix.

    Args:
        holdings: ``{symbol: quantity}`` (quantities >= 0).
        prices: price frame (``analytics.rebalancing``) of every held and target symbol.
        target_weights: ``{symbol: weight}`` of the whole portfolio, BTC included, summing to
            1; a held symbol without one has target 0 (sold).
        fee_bps: swap cost in basis points of the value given up, in [0, 10000).
        min_trade_btc, min_trade_usd: smallest non-BTC leg placed.
        lot_sizes: ``{symbol: lot}``; those symbols trade in whole lots.
        frozen: non-BTC symbols never traded (they keep their value).

    Returns:
        RebalancePlan with ``target_btc_pct`` = BTC's target weight; ``skipped`` and
        ``rounding_btc`` cover both sides.

    Raises:
        ValueError: an argument out of range, weights not summing to 1, a missing price, a
            portfolio worth nothing, BTC frozen, or no tradeable asset for the non-BTC part.
    """
    fee = _finite("fee_bps", fee_bps, 0.0, 10_000.0, hi_open=True) / 10_000.0
    min_btc = _finite("min_trade_btc", min_trade_btc, 0.0, math.inf)
    min_usd = _finite("min_trade_usd", min_trade_usd, 0.0, math.inf)
    lots = check_lot_sizes(lot_sizes)
    table, btc_usd = _price_table(prices)
    frozen = set(frozen)
    if BTC in frozen:
        raise ValueError("BTC cannot be frozen: it is the other side of every trade")
    weights = _check_mix(target_weights, table, frozen)
    qty = _quantities(holdings, weights, table, frozen)
    before = _holdings_frame(qty, table)
    values = pd.Series(before["value_btc"].to_numpy(), index=qty.index)
    if float(values.sum()) <= 0:
        raise ValueError("the portfolio is worth nothing: no mix to rebalance to")
    tradeable = [s for s in values.index if s != BTC and s not in frozen]
    frozen_value = float(values.drop([BTC, *tradeable]).sum())
    legs = _exact_legs(values, weights, tradeable, frozen_value, fee)
    sells, buys = _rounded(legs, float(values[BTC]), table, fee, lots, min_usd, min_btc)
    btc_net = float(sells.legs.sum()) * (1.0 - fee) - float(buys.legs.sum()) / (1.0 - fee)
    fees = float(sells.legs.sum()) * fee + float(buys.legs.sum()) * fee / (1.0 - fee)
    new_qty = _after_quantities(qty, sells.legs, buys.legs, btc_net, table)
    skipped = [f for f in (sells.skipped, buys.skipped) if not f.empty]
    return RebalancePlan(
        trades=_trade_rows(sells.legs, buys.legs, btc_net, table, btc_usd, fee),
        before=before, after=_holdings_frame(new_qty, table), btc_usd=btc_usd,
        target_btc_pct=weights.get(BTC, 0.0), fees_btc=fees,
        skipped=(pd.concat(skipped, ignore_index=True) if skipped
                 else pd.DataFrame(columns=SKIPPED_COLUMNS)),
        rounding_btc=float(legs.abs().sum()) - float(sells.legs.sum() + buys.legs.sum()))
