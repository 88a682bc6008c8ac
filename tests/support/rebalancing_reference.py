"""Test-only reference: ``analytics.rebalancing.rebalance_to_btc`` as it was on pandas (before the
numpy rewrite), kept to check the rewrite gives the same plans (tests/unit/analytics/
test_rebalancing_reference.py). Not to be used by the application.

Trades that bring a portfolio's BTC share to a target (pure: no IO).

Price frame (input), one row per symbol (BTC's row is optional)::

    symbol str, price_btc float (> 0), price_usd float (> 0)

e.g. the ``assets`` frame of ``analytics.portfolio_value.value_portfolio``. BTC/USD is the BTC
row's ``price_usd``, else ``price_usd / price_btc`` of any row (the same by construction).

Trade model: every non-BTC trade is a swap against BTC. ``fee_bps`` is the cost of one swap in
basis points of the value **given up** (the sold side), paid out of the proceeds. The gross
trade is solved so that the BTC share *after fees* equals the target exactly.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from analytics.rebalancing import HOLDING_COLUMNS, TRADE_COLUMNS, RebalancePlan
from analytics.trade_rounding import check_lot_sizes
from analytics.units import BTC, SATS_PER_BTC
from tests.support.trade_rounding_reference import round_legs

logger = logging.getLogger(__name__)

SHARE_TOLERANCE = 1e-12
__all__ = ["HOLDING_COLUMNS", "RebalancePlan", "rebalance_to_btc"]


def _finite(name: str, value: float, lo: float, hi: float, *, hi_open: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < lo or value > hi or (hi_open and value == hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}{')' if hi_open else ']'}, got {value}")
    return value


def _price_table(prices: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Validated prices indexed by symbol (BTC row added) and BTC/USD."""
    missing = {"symbol", "price_btc", "price_usd"} - set(prices.columns)
    if missing:
        raise ValueError(f"price frame lacks columns {sorted(missing)}")
    table = prices.drop_duplicates("symbol", keep="last").set_index("symbol")[
        ["price_btc", "price_usd"]].astype("float64")
    if not (np.isfinite(table.to_numpy()).all() and (table.to_numpy() > 0).all()):
        raise ValueError("prices must be finite and positive")
    if table.empty and BTC not in table.index:
        raise ValueError("no prices: BTC/USD unknown")
    if BTC in table.index:
        if abs(table.at[BTC, "price_btc"] - 1.0) > 1e-12:
            raise ValueError("BTC must be priced at 1 BTC")
        btc_usd = float(table.at[BTC, "price_usd"])
    else:
        first = table.iloc[0]
        btc_usd = float(first["price_usd"] / first["price_btc"])
        table.loc[BTC] = [1.0, btc_usd]
    return table, btc_usd


def _check_weights(weights: Mapping[str, float] | None, table: pd.DataFrame) -> dict[str, float]:
    if weights is None:
        return {}
    out = {s: _finite(f"target weight of {s}", w, 0.0, 1.0) for s, w in weights.items()}
    if BTC in out:
        raise ValueError("target_weights are for the non-BTC part: BTC cannot be in them")
    if abs(sum(out.values()) - 1.0) > 1e-9:
        raise ValueError(f"target_weights must sum to 1, got {sum(out.values())}")
    unpriced = sorted(set(out) - set(table.index))
    if unpriced:
        raise ValueError(f"no price for target asset(s) {', '.join(unpriced)}")
    return out


def _holdings_frame(quantities: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    price = table.loc[quantities.index]
    value = quantities.to_numpy() * price["price_btc"].to_numpy()
    total = value.sum()
    return pd.DataFrame({
        "symbol": quantities.index.to_numpy(dtype=object),
        "quantity": quantities.to_numpy(dtype="float64"),
        "price_btc": price["price_btc"].to_numpy(), "price_usd": price["price_usd"].to_numpy(),
        "value_btc": value, "value_usd": quantities.to_numpy() * price["price_usd"].to_numpy(),
        "weight": value / total if total > 0 else np.zeros(len(value)),
    })


def _split(amount: float, values: pd.Series, weights: dict[str, float], *, selling: bool,
           ) -> pd.Series:
    """Split a flow over the non-BTC assets: pro rata to current value, or toward weights.

    Toward target weights only the gaps in the flow's direction are used (no asset is both
    bought and sold), in proportion to those gaps; weights are met exactly when every gap
    points that way.
    """
    if not weights:
        total = values.sum()
        if total <= 0:
            raise ValueError("no non-BTC holding to buy: pass target_weights")
        return values / total * amount
    w = pd.Series(weights).reindex(values.index, fill_value=0.0)
    after_total = values.sum() + (-amount if selling else amount)
    gaps = (values - w * after_total) if selling else (w * after_total - values)
    gaps = gaps.clip(lower=0.0)
    return gaps / gaps.sum() * amount if gaps.sum() > 0 else gaps


def _gross_flow(btc: float, total: float, target: float, fee: float) -> float:
    """Gross value sold (others if buying BTC, BTC if selling it) to land on the target.

    Buying BTC: (b + x(1-f)) / (V - f x) = t  ->  x = (tV - b) / (1 - f(1-t)).
    Selling BTC: (b - y) / (V - f y) = t      ->  y = (b - tV) / (1 - t f).
    """
    if btc < target * total:
        return (target * total - btc) / (1.0 - fee * (1.0 - target))
    return (btc - target * total) / (1.0 - target * fee)


def _quantities(holdings: Mapping[str, float], table: pd.DataFrame,
                weights: dict[str, float]) -> pd.Series:
    """Quantities of BTC, every holding and every target asset (0 where not held)."""
    symbols = list(dict.fromkeys([BTC, *holdings, *weights]))
    checked = {s: _finite(f"quantity of {s}", q, 0.0, math.inf) for s, q in holdings.items()}
    qty = pd.Series([checked.get(s, 0.0) for s in symbols], index=pd.Index(symbols, dtype=object),
                    dtype="float64")
    unpriced = sorted(s for s in symbols if s not in table.index)
    if unpriced:
        raise ValueError(f"no price for held asset(s) {', '.join(unpriced)}")
    return qty


def _apply(qty: pd.Series, legs: pd.Series, table: pd.DataFrame, *, buying_btc: bool,
           fee: float) -> tuple[pd.Series, float, float]:
    """Quantities after the legs, the BTC leg's value and the fees (all in BTC)."""
    new_qty = qty.copy()
    prices_btc = table.loc[legs.index, "price_btc"]
    btc = float(qty[BTC])
    if buying_btc:
        btc_leg, fees = float(legs.sum()) * (1.0 - fee), float(legs.sum()) * fee
        # clip: selling a whole position must leave 0, not -1e-18.
        new_qty[legs.index] = (qty[legs.index] - legs / prices_btc).clip(lower=0.0)
        new_qty[BTC] = btc + btc_leg
    else:
        btc_leg = float(legs.sum()) / (1.0 - fee)
        fees = btc_leg * fee
        new_qty[legs.index] = qty[legs.index] + legs / prices_btc
        new_qty[BTC] = max(btc - btc_leg, 0.0)
    return new_qty, btc_leg, fees


def _trades(legs: pd.Series, btc_leg: float, table: pd.DataFrame, btc_usd: float, *,
            buying_btc: bool, fee: float) -> pd.DataFrame:
    """Trade rows: the non-BTC legs (sold first when funding BTC) and the BTC leg."""
    side, btc_side = ("sell", "buy") if buying_btc else ("buy", "sell")
    rows = [{"symbol": s, "side": side, "value_btc": v, "fee_btc": v * fee if buying_btc else 0.0}
            for s, v in legs.sort_values(ascending=False).items()]
    btc_row = {"symbol": BTC, "side": btc_side, "value_btc": btc_leg,
               "fee_btc": 0.0 if buying_btc else btc_leg * fee}
    rows = [*rows, btc_row] if buying_btc else [btc_row, *rows]
    frame = pd.DataFrame(rows, columns=["symbol", "side", "value_btc", "fee_btc"])
    frame["price_btc"] = table.loc[frame["symbol"], "price_btc"].to_numpy()
    frame["quantity"] = frame["value_btc"] / frame["price_btc"]
    frame["value_sats"] = (frame["value_btc"] * SATS_PER_BTC).round().astype("int64")
    frame["value_usd"] = frame["value_btc"] * btc_usd
    return frame[TRADE_COLUMNS]


def _tradeable(others: pd.Series, frozen: Iterable[str], weights: dict[str, float]) -> pd.Series:
    """The non-BTC values a plan may trade: all but the frozen ones."""
    frozen = set(frozen)
    if BTC in frozen:
        raise ValueError("BTC cannot be frozen: it is the other side of every trade")
    if frozen & set(weights):
        raise ValueError(f"frozen asset(s) {', '.join(sorted(frozen & set(weights)))} "
                         "cannot have a target weight")
    return others.drop([s for s in others.index if s in frozen])


def rebalance_to_btc(holdings: Mapping[str, float], prices: pd.DataFrame,
                     target_btc_share: float = 0.50, *, band: float = 0.0,
                     min_trade_btc: float = 0.0, fee_bps: float = 0.0,
                     target_weights: Mapping[str, float] | None = None,
                     frozen: Iterable[str] = (),
                     min_trade_usd: float = 0.0,
                     lot_sizes: Mapping[str, float] | None = None) -> RebalancePlan:
    """Trades that bring the BTC share of the portfolio's value to ``target_btc_share``.

    Below target, the other assets are sold (pro rata to value) into BTC; above target, BTC is
    sold into the other assets in proportion to their current value. With ``target_weights``
    (non-BTC symbols -> weights summing to 1) the flow instead moves the non-BTC part toward
    those weights, never buying and selling at once. After the trades, the total value is the
    old one less fees, no holding is negative and the BTC share equals the target up to the
    rounding: quantities of symbols with a lot size are floored to whole lots, and legs worth
    less than ``min_trade_usd`` / ``min_trade_btc`` are skipped (listed in ``plan.skipped``
    with the reason; the value left untraded is ``plan.rounding_btc``).
    ``frozen`` holdings (e.g. valued at a stale price) count in the total value but are never
    traded; when the others cannot move far enough the plan stops short of the target.

    Args:
        holdings: ``{symbol: quantity}`` (quantities >= 0).
        prices: price frame (see module docstring) covering every held and target symbol.
        target_btc_share: target BTC share of the total value, in [0, 1].
        band: no trades when ``|share - target| <= band``.
        min_trade_btc: smallest non-BTC leg kept, in BTC.
        fee_bps: swap cost in basis points of the value sold, in [0, 10000).
        target_weights: optional target mix of the non-BTC part.
        frozen: held non-BTC symbols that are never bought or sold.
        min_trade_usd: smallest non-BTC leg kept, in USD.
        lot_sizes: ``{symbol: lot}``; those symbols trade in whole lots (e.g. 1 share).

    Returns:
        RebalancePlan (trades of TRADE_COLUMNS; before/after of HOLDING_COLUMNS).

    Raises:
        ValueError: an argument out of range, a missing price, a portfolio worth nothing, or
            BTC to sell with no other asset (and no target weights) to buy.
    """
    target = _finite("target_btc_share", target_btc_share, 0.0, 1.0)
    band = _finite("band", band, 0.0, math.inf)
    min_trade = _finite("min_trade_btc", min_trade_btc, 0.0, math.inf)
    min_usd = _finite("min_trade_usd", min_trade_usd, 0.0, math.inf)
    lots = check_lot_sizes(lot_sizes)
    fee = _finite("fee_bps", fee_bps, 0.0, 10_000.0, hi_open=True) / 10_000.0
    table, btc_usd = _price_table(prices)
    weights = _check_weights(target_weights, table)
    qty = _quantities(holdings, table, weights)
    before = _holdings_frame(qty, table)
    values = pd.Series(before["value_btc"].to_numpy(), index=qty.index)
    btc, others = float(values[BTC]), values.drop(BTC)
    total = btc + float(others.sum())
    others = _tradeable(others, frozen, weights)
    if total <= 0:
        raise ValueError("the portfolio is worth nothing: no BTC share to rebalance")
    plan = {"before": before, "btc_usd": btc_usd, "target_btc_share": target}
    no_trades = RebalancePlan(trades=pd.DataFrame(columns=TRADE_COLUMNS), after=before,
                              fees_btc=0.0, **plan)
    if abs(btc / total - target) <= band + SHARE_TOLERANCE:
        return no_trades
    buying = btc < target * total
    gross = min(_gross_flow(btc, total, target, fee), float(others.sum()) if buying else btc)
    legs = _split(gross if buying else gross * (1.0 - fee), others, weights, selling=buying)
    rounded = round_legs(legs[legs > 0], table, side="sell" if buying else "buy",
                         lot_sizes=lots, min_trade_usd=min_usd, min_trade_btc=min_trade)
    plan.update(skipped=rounded.skipped, rounding_btc=rounded.rounding_btc)
    legs = rounded.legs
    if legs.empty:
        logger.info("rebalance: every leg is below the minimum trade or one lot, no trades")
        return RebalancePlan(trades=pd.DataFrame(columns=TRADE_COLUMNS), after=before,
                             fees_btc=0.0, **plan)
    new_qty, btc_leg, fees = _apply(qty, legs, table, buying_btc=buying, fee=fee)
    trades = _trades(legs, btc_leg, table, btc_usd, buying_btc=buying, fee=fee)
    return RebalancePlan(trades=trades, after=_holdings_frame(new_qty, table), fees_btc=fees,
                         **plan)
