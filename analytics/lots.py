"""Cost basis from lots (pure): FIFO (default), LIFO, HIFO or average cost, in BTC and USD.

Every increase of an asset opens a lot costed at its market value at the day's close (a buy,
a deposit, income received in kind, an opening balance). Every decrease closes lots in the
chosen order; its proceeds are the market value of what left at the day's close (zero for a
fee), and ``realised = proceeds - cost of the closed lots``. A transfer between own accounts
moves no lot; a split multiplies the lots' quantities and keeps their cost.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from analytics.ledger_arrays import PAID, SPLIT, TRANSFER

METHODS = ("fifo", "lifo", "hifo", "average")


@dataclass(slots=True)
class Lot:
    """Quantity still held from one acquisition and its remaining cost."""

    quantity: float
    cost_btc: float
    cost_usd: float


@dataclass
class Position:
    """Open lots of one asset and what its disposals realised."""

    lots: deque[Lot] = field(default_factory=deque)
    realised_btc: float = 0.0
    realised_usd: float = 0.0

    def quantity(self) -> float:
        """Quantity held in open lots."""
        return sum(lot.quantity for lot in self.lots)


def acquire(pos: Position, qty: float, price_btc: float, btc_usd: float, method: str) -> None:
    """Open a lot of ``qty`` at the day's market price (average: merge into one lot)."""
    lot = Lot(qty, qty * price_btc, qty * price_btc * btc_usd)
    if method == "average" and pos.lots:
        pool = pos.lots[0]
        pool.quantity += lot.quantity
        pool.cost_btc += lot.cost_btc
        pool.cost_usd += lot.cost_usd
        return
    pos.lots.append(lot)


def _next_lot(lots: deque[Lot], method: str) -> Lot:
    """The lot a disposal closes next (fifo/average: oldest, lifo: newest, hifo: dearest)."""
    if method == "lifo":
        return lots[-1]
    if method == "hifo":  # highest unit cost in BTC, the unit of account
        return max(lots, key=lambda lot: lot.cost_btc / lot.quantity)
    return lots[0]


def _drop(lots: deque[Lot], lot: Lot) -> None:
    """Remove a closed lot: an end of the deque in O(1) (fifo, lifo, average), else by identity."""
    if lots[0] is lot:
        lots.popleft()
    elif lots[-1] is lot:
        lots.pop()
    else:
        del lots[next(i for i, other in enumerate(lots) if other is lot)]


def dispose(pos: Position, qty: float, proceeds_btc: float, proceeds_usd: float,
            method: str) -> None:
    """Close ``qty`` from the lots in the method's order and book the realised result.

    Selling more than the open lots hold (a missing buy) closes what there is: the rest has
    no known cost, so it realises its whole proceeds (the ledger flags the negative balance).
    """
    left, cost_btc, cost_usd, lots = qty, 0.0, 0.0, pos.lots
    oldest = method in ("fifo", "average")
    while left > 1e-15 and lots:
        lot = lots[0] if oldest else _next_lot(lots, method)
        take = min(lot.quantity, left)
        share = take / lot.quantity
        cost_btc += lot.cost_btc * share
        cost_usd += lot.cost_usd * share
        lot.cost_btc -= lot.cost_btc * share
        lot.cost_usd -= lot.cost_usd * share
        lot.quantity -= take
        left -= take
        if lot.quantity <= 1e-15:
            _drop(lots, lot)
    pos.realised_btc += proceeds_btc - cost_btc
    pos.realised_usd += proceeds_usd - cost_usd


def split(pos: Position, ratio: float) -> None:
    """A split: every lot's quantity times ``ratio``, cost unchanged."""
    for lot in pos.lots:
        lot.quantity *= ratio


def cost_basis(grid, *, method: str = "fifo", upto: int | None = None) -> dict[str, Position]:
    """Lots of every asset after replaying the grid's movements up to row ``upto``.

    Args:
        grid: an ``analytics.performance.Grid``.
        method: fifo, lifo, hifo or average.
        upto: last grid row (day) included; default the last.

    Raises:
        ValueError: unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"cost basis method must be one of {', '.join(METHODS)}")
    last = len(grid.days) - 1 if upto is None else upto
    m = grid.moves
    rows = m.day - grid.days[0].date().toordinal()
    n = int(np.searchsorted(rows, last, side="right"))  # movements are in day order
    col = {a: i for i, a in enumerate(grid.assets)}
    cols = np.array([col.get(a, 0) for a in m.assets], dtype=np.int64)[m.asset[:n]]
    price = grid.price_btc[rows[:n], cols]
    btc_usd = grid.btc_usd[rows[:n]]
    positions: dict[str, Position] = defaultdict(Position)
    for asset, qty, role, ratio, p, usd in zip(
            m.asset[:n].tolist(), m.quantity[:n].tolist(), m.role[:n].tolist(),
            m.ratio[:n].tolist(), price.tolist(), btc_usd.tolist(), strict=True):
        pos = positions[m.assets[asset]]
        if role == TRANSFER:
            continue  # between own accounts: the lots stay
        if role == SPLIT:
            split(pos, ratio)
        elif qty > 0:
            acquire(pos, qty, p, usd, method)
        elif qty < 0:
            proceeds = 0.0 if role == PAID or math.isnan(p) else -qty * p
            dispose(pos, -qty, proceeds, proceeds * usd, method)
    return dict(positions)
