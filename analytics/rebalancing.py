"""Trades that bring a portfolio's BTC share to a target (pure: no IO).

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
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.trade_rounding import SKIPPED_COLUMNS, check_lot_sizes, round_leg_arrays
from analytics.units import BTC, SATS_PER_BTC

logger = logging.getLogger(__name__)

# Shares are ratios of float sums: a share within this of the band edge counts as inside.
SHARE_TOLERANCE = 1e-12
TRADE_COLUMNS = ["symbol", "side", "quantity", "price_btc", "value_btc", "value_sats",
                 "value_usd", "fee_btc"]
HOLDING_COLUMNS = ["symbol", "quantity", "price_btc", "price_usd", "value_btc", "value_usd",
                   "weight"]


@dataclass(frozen=True)
class RebalancePlan:
    """Trades plus the portfolio before and after them (frames of HOLDING_COLUMNS).

    ``skipped`` lists the legs not placed (``trade_rounding.SKIPPED_COLUMNS``, with the reason)
    and ``rounding_btc`` the value they and the lot rounding left untraded.
    """

    trades: pd.DataFrame
    before: pd.DataFrame
    after: pd.DataFrame
    btc_usd: float
    target_btc_share: float
    fees_btc: float
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    rounding_btc: float = 0.0

    @property
    def btc_share_before(self) -> float:
        """BTC value / total value before the trades."""
        return _btc_share(self.before)

    @property
    def btc_share_after(self) -> float:
        """BTC value / total value after the trades (and fees)."""
        return _btc_share(self.after)

    @property
    def target_gap(self) -> float:
        """BTC share after the trades minus the target (non-zero only through rounding)."""
        return self.btc_share_after - self.target_btc_share


def _btc_share(frame: pd.DataFrame) -> float:
    values = frame["value_btc"].to_numpy(dtype="float64")
    total = float(values.sum())
    is_btc = frame["symbol"].to_numpy() == BTC
    return float(values[is_btc].sum()) / total if total else 0.0


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


@dataclass(frozen=True)
class _Prices:
    """Validated prices as arrays (``_price_arrays``): row of each symbol (BTC included)."""

    row: dict[str, int]
    btc: np.ndarray
    usd: np.ndarray
    btc_usd: float

    def take(self, symbols: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``price_btc`` and ``price_usd`` of ``symbols`` (all priced)."""
        rows = np.fromiter((self.row[s] for s in symbols), dtype=np.intp, count=len(symbols))
        return self.btc[rows], self.usd[rows]


def _price_arrays(prices: pd.DataFrame) -> _Prices:
    """``_price_table`` on arrays: the same checks, without a frame indexed by symbol."""
    missing = {"symbol", "price_btc", "price_usd"} - set(prices.columns)
    if missing:
        raise ValueError(f"price frame lacks columns {sorted(missing)}")
    row = {s: i for i, s in enumerate(prices["symbol"].tolist())}  # the last row of a symbol
    keep = sorted(row.values())
    price_btc = prices["price_btc"].to_numpy(dtype="float64")
    price_usd = prices["price_usd"].to_numpy(dtype="float64")
    kept = np.concatenate([price_btc[keep], price_usd[keep]])
    if not (np.isfinite(kept).all() and (kept > 0).all()):
        raise ValueError("prices must be finite and positive")
    if not keep:
        raise ValueError("no prices: BTC/USD unknown")
    if BTC in row:
        if abs(price_btc[row[BTC]] - 1.0) > 1e-12:
            raise ValueError("BTC must be priced at 1 BTC")
        return _Prices(row, price_btc, price_usd, float(price_usd[row[BTC]]))
    btc_usd = float(price_usd[keep[0]] / price_btc[keep[0]])
    row[BTC] = len(price_btc)
    return _Prices(row, np.append(price_btc, 1.0), np.append(price_usd, btc_usd), btc_usd)


def _check_weights(weights: Mapping[str, float] | None, priced: Container[str],
                   ) -> dict[str, float]:
    if weights is None:
        return {}
    out = {s: _finite(f"target weight of {s}", w, 0.0, 1.0) for s, w in weights.items()}
    if BTC in out:
        raise ValueError("target_weights are for the non-BTC part: BTC cannot be in them")
    if abs(sum(out.values()) - 1.0) > 1e-9:
        raise ValueError(f"target_weights must sum to 1, got {sum(out.values())}")
    unpriced = sorted(s for s in out if s not in priced)
    if unpriced:
        raise ValueError(f"no price for target asset(s) {', '.join(unpriced)}")
    return out


def _holdings_frame(quantities: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    """A frame of HOLDING_COLUMNS from quantities and a ``_price_table``."""
    price = table.loc[quantities.index]
    return _holdings(list(quantities.index), quantities.to_numpy(dtype="float64"),
                     price["price_btc"].to_numpy(), price["price_usd"].to_numpy())


def _holdings(symbols: list[str], qty: np.ndarray, price_btc: np.ndarray,
              price_usd: np.ndarray) -> pd.DataFrame:
    """A frame of HOLDING_COLUMNS."""
    value = qty * price_btc
    total = value.sum()
    return pd.DataFrame({
        "symbol": np.array(symbols, dtype=object), "quantity": qty,
        "price_btc": price_btc, "price_usd": price_usd, "value_btc": value,
        "value_usd": qty * price_usd,
        "weight": value / total if total > 0 else np.zeros(len(value)),
    }, columns=HOLDING_COLUMNS)


def _split(amount: float, values: np.ndarray, symbols: list[str], weights: dict[str, float],
           *, selling: bool) -> np.ndarray:
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
    w = np.array([weights.get(s, 0.0) for s in symbols], dtype="float64")
    after_total = values.sum() + (-amount if selling else amount)
    gaps = np.maximum((values - w * after_total) if selling else (w * after_total - values), 0.0)
    return gaps / gaps.sum() * amount if gaps.sum() > 0 else gaps


def _gross_flow(btc: float, total: float, target: float, fee: float) -> float:
    """Gross value sold (others if buying BTC, BTC if selling it) to land on the target.

    Buying BTC: (b + x(1-f)) / (V - f x) = t  ->  x = (tV - b) / (1 - f(1-t)).
    Selling BTC: (b - y) / (V - f y) = t      ->  y = (b - tV) / (1 - t f).
    """
    if btc < target * total:
        return (target * total - btc) / (1.0 - fee * (1.0 - target))
    return (btc - target * total) / (1.0 - target * fee)


def _quantities(holdings: Mapping[str, float], priced: Container[str],
                weights: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """BTC, every holding and every target asset, and their quantities (0 where not held)."""
    symbols = list(dict.fromkeys([BTC, *holdings, *weights]))
    checked = {s: _finite(f"quantity of {s}", q, 0.0, math.inf) for s, q in holdings.items()}
    qty = np.array([checked.get(s, 0.0) for s in symbols], dtype="float64")
    unpriced = sorted(s for s in symbols if s not in priced)
    if unpriced:
        raise ValueError(f"no price for held asset(s) {', '.join(unpriced)}")
    return symbols, qty


def _apply(qty: np.ndarray, rows: np.ndarray, legs: np.ndarray, prices_btc: np.ndarray, *,
           buying_btc: bool, fee: float) -> tuple[np.ndarray, float, float]:
    """Quantities after the legs, the BTC leg's value and the fees (all in BTC).

    The legs apply at ``rows`` of ``qty``; BTC is row 0.
    """
    new_qty = qty.copy()
    btc, flow = float(qty[0]), float(legs.sum())
    if buying_btc:
        btc_leg, fees = flow * (1.0 - fee), flow * fee
        # clip: selling a whole position must leave 0, not -1e-18.
        new_qty[rows] = np.maximum(qty[rows] - legs / prices_btc, 0.0)
        new_qty[0] = btc + btc_leg
    else:
        btc_leg = flow / (1.0 - fee)
        fees = btc_leg * fee
        new_qty[rows] = qty[rows] + legs / prices_btc
        new_qty[0] = max(btc - btc_leg, 0.0)
    return new_qty, btc_leg, fees


def _descending(values: np.ndarray) -> np.ndarray:
    """The order of ``Series.sort_values(ascending=False)`` (ties as pandas breaks them)."""
    return np.arange(len(values))[::-1][values[::-1].argsort(kind="quicksort")][::-1]


def _trades(symbols: list[str], legs: np.ndarray, prices_btc: np.ndarray, btc_leg: float,
            btc_usd: float, *, buying_btc: bool, fee: float) -> pd.DataFrame:
    """Trade rows: the non-BTC legs, largest first, and the BTC leg.

    Largest first also means sold first when the legs fund BTC.
    """
    order = _descending(legs)
    side, btc_side = ("sell", "buy") if buying_btc else ("buy", "sell")
    names = [symbols[i] for i in order]
    value, price = legs[order], prices_btc[order]
    leg_fee = value * fee if buying_btc else np.zeros(len(value))
    btc_fee = 0.0 if buying_btc else btc_leg * fee
    if buying_btc:
        names, sides = [*names, BTC], [side] * len(order) + [btc_side]
        value, price, fees = (np.append(value, btc_leg), np.append(price, 1.0),
                              np.append(leg_fee, btc_fee))
    else:
        names, sides = [BTC, *names], [btc_side] + [side] * len(order)
        value, price, fees = (np.insert(value, 0, btc_leg), np.insert(price, 0, 1.0),
                              np.insert(leg_fee, 0, btc_fee))
    return pd.DataFrame({
        "symbol": np.array(names, dtype=object), "side": np.array(sides, dtype=object),
        "quantity": value / price, "price_btc": price, "value_btc": value,
        "value_sats": np.round(value * SATS_PER_BTC).astype("int64"),
        "value_usd": value * btc_usd, "fee_btc": fees}, columns=TRADE_COLUMNS)


def _tradeable(symbols: list[str], frozen: Iterable[str], weights: dict[str, float],
               ) -> np.ndarray:
    """Rows of the non-BTC assets a plan may trade: all but the frozen ones.

    Rows index ``symbols``, BTC first.
    """
    frozen = set(frozen)
    if BTC in frozen:
        raise ValueError("BTC cannot be frozen: it is the other side of every trade")
    if frozen & set(weights):
        raise ValueError(f"frozen asset(s) {', '.join(sorted(frozen & set(weights)))} "
                         "cannot have a target weight")
    return np.array([i for i, s in enumerate(symbols) if i > 0 and s not in frozen],
                    dtype=np.intp)


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
    table = _price_arrays(prices)
    weights = _check_weights(target_weights, table.row)
    symbols, qty = _quantities(holdings, table.row, weights)
    price_btc, price_usd = table.take(symbols)
    before = _holdings(symbols, qty, price_btc, price_usd)
    values = before["value_btc"].to_numpy()
    btc = float(values[0])
    total = btc + float(values[1:].sum())
    rows = _tradeable(symbols, frozen, weights)
    if total <= 0:
        raise ValueError("the portfolio is worth nothing: no BTC share to rebalance")
    plan = {"before": before, "btc_usd": table.btc_usd, "target_btc_share": target}
    if abs(btc / total - target) <= band + SHARE_TOLERANCE:
        return RebalancePlan(trades=pd.DataFrame(columns=TRADE_COLUMNS), after=before,
                             fees_btc=0.0, **plan)
    buying = btc < target * total
    others = values[rows]
    gross = min(_gross_flow(btc, total, target, fee), float(others.sum()) if buying else btc)
    legs = _split(gross if buying else gross * (1.0 - fee), others,
                  [symbols[i] for i in rows], weights, selling=buying)
    rows = rows[legs > 0]
    rounded = round_leg_arrays([symbols[i] for i in rows], legs[legs > 0], price_btc[rows],
                               price_usd[rows], side="sell" if buying else "buy",
                               lot_sizes=lots, min_trade_usd=min_usd, min_trade_btc=min_trade)
    plan.update(skipped=rounded.skipped, rounding_btc=rounded.rounding_btc)
    if not rounded.kept:
        logger.info("rebalance: every leg is below the minimum trade or one lot, no trades")
        return RebalancePlan(trades=pd.DataFrame(columns=TRADE_COLUMNS), after=before,
                             fees_btc=0.0, **plan)
    rows = rows[rounded.kept]
    new_qty, btc_leg, fees = _apply(qty, rows, rounded.placed, price_btc[rows],
                                    buying_btc=buying, fee=fee)
    trades = _trades([symbols[i] for i in rows], rounded.placed, price_btc[rows], btc_leg,
                     table.btc_usd, buying_btc=buying, fee=fee)
    return RebalancePlan(trades=trades, after=_holdings(symbols, new_qty, price_btc, price_usd),
                         fees_btc=fees, **plan)
