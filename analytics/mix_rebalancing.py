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
target share. With it, what the lots and the minimum trade leave untraded (``rounding_btc``)
would end in BTC; instead one asset that trades without a lot size (the largest such leg)
absorbs it, so BTC still lands on its target share and the other weights miss by at most the
untraded value. Only without such an asset (or when it cannot absorb it: not enough held, the
resized leg below the minimum trade) does the BTC share miss, by at most that value.
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
    _quantities,
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


def _shares(weights: dict[str, float], tradeable: list[str], need: bool) -> np.ndarray:
    """Each tradeable non-BTC asset's share of the tradeable non-BTC value after the plan."""
    w = np.array([weights.get(s, 0.0) for s in tradeable], dtype="float64")
    if w.sum() > 0:
        return w / w.sum()
    if need:
        raise ValueError("the target mix puts value outside BTC but no tradeable asset has a "
                         "target weight (every one is frozen or absent)")
    return w


def _solve_after_value(total: float, v: np.ndarray, a: np.ndarray, b: np.ndarray,
                       fee: float) -> float:
    """Total value after fees V', which the fees of the trades themselves depend on.

    Tradeable asset i (now ``v_i``) ends at ``a_i V' + b_i`` (``total``: the whole portfolio's
    value before).

    fees(V') = f * sum over sells (v - a) + f/(1-f) * sum over buys (a - v), linear in V'
    once the sign pattern is known: solve it, re-check the pattern, repeat until stable.
    """
    if fee == 0.0:
        return total
    g = fee / (1.0 - fee)
    after = total
    for _ in range(_MAX_SOLVE_ROUNDS):
        k = np.where(a * after + b - v > 0, -g, fee)   # fee per unit of (v - a) on each side
        solved = (total - float(k @ (v - b))) / (1.0 - float(k @ a))
        if math.isclose(solved, after, rel_tol=1e-15, abs_tol=0.0):
            return solved
        after = solved
    logger.warning("rebalance to weights: fee solve did not settle, using the last value")
    return after


def _exact_legs(values: dict[str, float], total: float, weights: dict[str, float],
                tradeable: list[str], frozen_value: float, fee: float) -> dict[str, float]:
    """Exact signed legs (value to buy > 0, to sell < 0) per tradeable asset."""
    target_btc = weights.get(BTC, 0.0)
    v = np.array([values[s] for s in tradeable], dtype="float64")
    room = total * (1.0 - target_btc) - frozen_value
    shares = _shares(weights, tradeable, need=room > 0)
    if room > 0:
        alpha, beta = shares * (1.0 - target_btc), -shares * frozen_value
    else:  # frozen assets alone exceed the non-BTC part: sell every tradeable one
        alpha, beta = shares * 0.0, shares * 0.0
    after = _solve_after_value(total, v, alpha, beta, fee)
    legs = np.clip(alpha * after + beta, 0.0, None) - v
    return {s: float(x) for s, x in zip(tradeable, legs, strict=True)
            if abs(x) > SHARE_TOLERANCE * total}


def _rounded(legs: dict[str, float], btc: float, table: pd.DataFrame, fee: float,
             rules: dict) -> tuple[RoundedLegs, RoundedLegs]:
    """Sells rounded first; then buys, scaled down if the rounded sells fund less BTC."""
    sells = round_legs(pd.Series({s: -x for s, x in legs.items() if x < 0}, dtype="float64"),
                       table, side="sell", **rules)
    wanted = {s: x for s, x in legs.items() if x > 0}
    budget = (btc + float(sells.legs.sum()) * (1.0 - fee)) * (1.0 - fee)
    scale = min(1.0, budget / sum(wanted.values())) if wanted else 1.0
    buys = round_legs(pd.Series({s: x * scale for s, x in wanted.items()}, dtype="float64"),
                      table, side="buy", **rules)
    return sells, buys


def _btc_residual(legs: dict[str, float], btc: float, total: float, target: float,
                  fee: float) -> float:
    """BTC after the signed legs minus the target share of the value after fees."""
    sold = -sum(x for x in legs.values() if x < 0)
    bought = sum(x for x in legs.values() if x > 0)
    fees = sold * fee + bought * fee / (1.0 - fee)
    return btc + sold * (1.0 - fee) - bought / (1.0 - fee) - target * (total - fees)


def _absorb(legs: dict[str, float], absorber: str, held: float, btc: float, total: float,
            target: float, fee: float) -> dict[str, float]:
    """Resize one leg so BTC lands on its target share (see module docstring).

    A leg bought (x > 0) moves the residual by -dx (1/(1-f) - t f/(1-f)); a leg sold
    (x < 0) by -dx (1 - f + t f). Never sells more than is held; crossing zero is two steps.
    """
    out = dict(legs)
    out.setdefault(absorber, 0.0)
    for _ in range(3):
        residual = _btc_residual(out, btc, total, target, fee)
        leg = out[absorber]
        if abs(residual) <= SHARE_TOLERANCE * total:
            break
        buying = leg > 0 or (leg == 0 and residual > 0)
        rate = (1.0 - target * fee) / (1.0 - fee) if buying else 1.0 - fee + target * fee
        new = leg + residual / rate
        if leg * new < 0:
            new = 0.0            # first to zero, then on the other side
        out[absorber] = max(new, -held)
    return out


def _pick_absorber(legs: dict[str, float], weights: dict[str, float], tradeable: list[str],
                   lots: dict[str, float]) -> str | None:
    """The non-lot tradeable asset to absorb the rounding: a target asset, largest leg first."""
    free = [s for s in tradeable if s not in lots]
    if not free:
        return None
    return max(free, key=lambda s: (weights.get(s, 0.0) > 0, abs(legs.get(s, 0.0)),
                                    weights.get(s, 0.0)))


def _placeable(value_btc: float, btc_usd: float, rules: dict) -> bool:
    return value_btc * btc_usd >= rules["min_trade_usd"] and value_btc >= rules["min_trade_btc"]


def _trade_rows(legs: dict[str, float], btc_net: float, table: pd.DataFrame,
                btc_usd: float, fee: float) -> pd.DataFrame:
    """Sells (largest first), the net BTC leg, then buys (largest first)."""
    order = sorted(legs, key=lambda s: (legs[s] > 0, -abs(legs[s])))
    rows = [{"symbol": s, "side": "buy" if legs[s] > 0 else "sell", "value_btc": abs(legs[s]),
             "fee_btc": legs[s] * fee / (1.0 - fee) if legs[s] > 0 else -legs[s] * fee}
            for s in order]
    if btc_net != 0.0:
        at = sum(1 for s in order if legs[s] < 0)
        rows.insert(at, {"symbol": BTC, "side": "buy" if btc_net > 0 else "sell",
                         "value_btc": abs(btc_net), "fee_btc": 0.0})
    frame = pd.DataFrame(rows, columns=["symbol", "side", "value_btc", "fee_btc"])
    frame["price_btc"] = table["price_btc"].reindex(frame["symbol"]).to_numpy()
    frame["quantity"] = frame["value_btc"] / frame["price_btc"]
    frame["value_sats"] = (frame["value_btc"] * SATS_PER_BTC).round().astype("int64")
    frame["value_usd"] = frame["value_btc"] * btc_usd
    return frame[TRADE_COLUMNS]


def _after_quantities(qty: pd.Series, legs: dict[str, float], btc_net: float,
                      price_btc: dict[str, float]) -> pd.Series:
    new = qty.copy()
    for symbol, value in legs.items():
        left = float(qty[symbol]) + value / price_btc[symbol]
        # A whole position sold leaves exactly 0 (not -1e-18, nor 1e-18 of dust).
        new[symbol] = left if value > 0 or left > float(qty[symbol]) * 1e-12 else 0.0
    new[BTC] = max(float(qty[BTC]) + btc_net, 0.0)
    return new


def _final_legs(values: dict[str, float], total: float, weights: dict[str, float],
                tradeable: list[str], frozen_value: float, fee: float, table: pd.DataFrame,
                rules: dict, btc_usd: float) -> tuple[dict[str, float], pd.DataFrame, float]:
    """Placed signed legs, the skipped ones, and the value the rounding left untraded."""
    exact = _exact_legs(values, total, weights, tradeable, frozen_value, fee)
    sells, buys = _rounded(exact, values[BTC], table, fee, rules)
    legs = {**{s: -float(x) for s, x in sells.legs.items()},
            **{s: float(x) for s, x in buys.legs.items()}}
    untraded = sum(abs(x) for x in exact.values()) - sum(abs(x) for x in legs.values())
    absorber = _pick_absorber(legs, weights, tradeable, rules["lot_sizes"])
    if absorber is not None and untraded > SHARE_TOLERANCE * total:
        moved = _absorb(legs, absorber, values.get(absorber, 0.0), values[BTC], total,
                        weights.get(BTC, 0.0), fee)
        if moved[absorber] == 0.0 or _placeable(abs(moved[absorber]), btc_usd, rules):
            legs = {s: x for s, x in moved.items() if x != 0.0}
    skipped = [f for f in (sells.skipped, buys.skipped) if not f.empty]
    if absorber in legs:  # a leg too small alone may be placed once it absorbed the rest
        skipped = [f[f["symbol"] != absorber] for f in skipped]
    return legs, (pd.concat(skipped, ignore_index=True) if skipped
                  else pd.DataFrame(columns=SKIPPED_COLUMNS)), max(untraded, 0.0)


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
        min_trade_btc: smallest non-BTC leg placed, in BTC.
        min_trade_usd: smallest non-BTC leg placed, in USD (both minimums apply).
        lot_sizes: ``{symbol: lot}``; those symbols trade in whole lots.
        frozen: non-BTC symbols never traded (they keep their value).

    Returns:
        RebalancePlan with ``target_btc_share`` = BTC's target weight; ``skipped`` and
        ``rounding_btc`` (value the lots and minimum trade left untraded) cover both sides.

    Raises:
        ValueError: an argument out of range, weights not summing to 1, a missing price, a
            portfolio worth nothing, BTC frozen, or no tradeable asset for the non-BTC part.
    """
    fee = _finite("fee_bps", fee_bps, 0.0, 10_000.0, hi_open=True) / 10_000.0
    rules = {"min_trade_btc": _finite("min_trade_btc", min_trade_btc, 0.0, math.inf),
             "min_trade_usd": _finite("min_trade_usd", min_trade_usd, 0.0, math.inf),
             "lot_sizes": check_lot_sizes(lot_sizes)}
    table, btc_usd = _price_table(prices)
    frozen = set(frozen)
    if BTC in frozen:
        raise ValueError("BTC cannot be frozen: it is the other side of every trade")
    weights = _check_mix(target_weights, table, frozen)
    # BTC, every holding and every asset to buy (a frozen or zero-weight one is not bought).
    wanted = {s: w for s, w in weights.items() if w > 0 and s not in frozen}
    symbols, quantities = _quantities(holdings, table.index, wanted)
    qty = pd.Series(quantities, index=pd.Index(symbols, dtype=object))
    price_btc = dict(zip(table.index, table["price_btc"].to_numpy(), strict=True))
    values = {s: float(q) * price_btc[s] for s, q in qty.items()}
    total = sum(values.values())
    if total <= 0:
        raise ValueError("the portfolio is worth nothing: no mix to rebalance to")
    tradeable = [s for s in values if s != BTC and s not in frozen]
    frozen_value = total - values[BTC] - sum(values[s] for s in tradeable)
    legs, skipped, untraded = _final_legs(values, total, weights, tradeable, frozen_value, fee,
                                          table, rules, btc_usd)
    sold = -sum(x for x in legs.values() if x < 0)
    bought = sum(x for x in legs.values() if x > 0)
    btc_net = sold * (1.0 - fee) - bought / (1.0 - fee)
    if abs(btc_net) <= SHARE_TOLERANCE * total:
        btc_net = 0.0            # float noise of legs that pay for each other: no BTC row
    new_qty = _after_quantities(qty, legs, btc_net, price_btc)
    return RebalancePlan(
        trades=_trade_rows(legs, btc_net, table, btc_usd, fee),
        before=_holdings_frame(qty, table), after=_holdings_frame(new_qty, table),
        btc_usd=btc_usd, target_btc_share=weights.get(BTC, 0.0),
        fees_btc=sold * fee + bought * fee / (1.0 - fee), skipped=skipped,
        rounding_btc=untraded)
