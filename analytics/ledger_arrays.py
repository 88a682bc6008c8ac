"""The ledger replayed into numpy arrays (pure): the fast path of valuation and performance.

``analytics.ledger.replay`` is exact (``Decimal``) and walks entry by entry: right for
balances and negative-balance flags, slow for 10,000 entries valued on every day. Here the
same movements (``analytics.ledger.movements``: one optional fee leg, then one or two legs per
entry) are built column-wise as float arrays, so holdings per day are cumulative sums of
per-day deltas. Exactness stays where it matters:

* negative-balance flags: a float running balance per (account, asset) picks the few keys
  that may touch or cross zero; only the entries of those keys are replayed exactly, up to
  where the float balance is certainly negative (``negative_balances``);
* a split multiplies the balance held just before it (a sequential step, done per split).

Float error: a leg is its decimal rounded once (a transfer leg with its fee: twice), and a
running balance of n legs is off by at most about ``n * 2**-53`` times the sum of the legs'
magnitudes; ``TOLERANCE`` (1e-9 of that sum) covers ledgers of up to ~10^7 legs per key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from analytics.ledger import CASH, TYPES, Entry, NegativeBalance, replay, sort_key

TOLERANCE = 1e-9
# What a leg means to the lots (analytics.lots): a plain leg, a leg of a transfer between own
# accounts (moves no lot), a split (multiplies the lots), a fee paid (a disposal without
# proceeds: a FEE entry or any entry's fee leg).
PLAIN, TRANSFER, SPLIT, PAID = 0, 1, 2, 3


@dataclass(frozen=True)
class LedgerColumns:
    """A ledger as columns: one row per entry, in replay order (trade date, time, id).

    Quantities are floats (0 where absent); ``entry(i)`` gives row i's exact record
    (``Decimal`` quantities) for the exact replay of the few entries that need it.
    """

    ids: Sequence[int | None]
    day: np.ndarray                     # int64 proleptic ordinal of each trade date
    type: np.ndarray                    # str
    subtype: Sequence[str | None]
    account: Sequence[str]
    asset: Sequence[str]
    quantity: np.ndarray                # float64
    counter_asset: Sequence[str | None]
    counter_quantity: np.ndarray        # float64, 0 where none
    fee_asset: Sequence[str | None]
    fee_quantity: np.ndarray            # float64, 0 where none
    to_account: Sequence[str | None]
    entry: Callable[[int], Entry]

    def __len__(self) -> int:
        return len(self.type)

    def symbols(self) -> set[str]:
        """Every asset the ledger names (entry, counter and fee assets)."""
        return ({a for a in self.asset} | {a for a in self.counter_asset if a}
                | {a for a in self.fee_asset if a})


def floats(texts: Iterable[object]) -> np.ndarray:
    """Quantities (decimal text or ``Decimal``, None for absent) as float64, 0 for absent."""
    return np.array([0.0 if t is None else t for t in texts], dtype=np.float64)


def columns_from_entries(entries: Iterable[Entry]) -> LedgerColumns:
    """Columns of ``Entry`` records (sorted into replay order)."""
    ordered = sorted(entries, key=sort_key)
    return LedgerColumns(
        ids=[e.id for e in ordered],
        day=np.array([e.trade_date.toordinal() for e in ordered], dtype=np.int64),
        type=np.array([e.type for e in ordered], dtype=str),
        subtype=[e.subtype for e in ordered], account=[e.account for e in ordered],
        asset=[e.asset for e in ordered], quantity=floats(e.quantity for e in ordered),
        counter_asset=[e.counter_asset for e in ordered],
        counter_quantity=floats(e.counter_quantity for e in ordered),
        fee_asset=[e.fee_asset for e in ordered],
        fee_quantity=floats(e.fee_quantity for e in ordered),
        to_account=[e.to_account for e in ordered], entry=ordered.__getitem__)


def as_columns(ledger: Iterable[Entry] | LedgerColumns) -> LedgerColumns:
    """The ledger as columns (already columns: as it is)."""
    return ledger if isinstance(ledger, LedgerColumns) else columns_from_entries(ledger)


@dataclass(frozen=True)
class Moves:
    """Every movement of a ledger (``analytics.ledger.movements``) as arrays, replay order."""

    row: np.ndarray         # the entry's row in the LedgerColumns
    day: np.ndarray         # int64 ordinal of the trade date
    key: np.ndarray         # code into ``keys``: (account, asset)
    asset: np.ndarray       # code into ``assets``
    quantity: np.ndarray    # float64, signed
    magnitude: np.ndarray   # float64: size of the decimals the leg was computed from
    flow: np.ndarray        # bool: external money in or out
    role: np.ndarray        # PLAIN, TRANSFER, SPLIT or PAID (for the lots)
    ratio: np.ndarray       # float64: a split's ratio (0 elsewhere)
    keys: list[tuple[str, str]]
    assets: list[str]


def _codes(values: Sequence[str | None], table: dict[str, int]) -> np.ndarray:
    """Each name's code in ``table`` (new names added), -1 for none."""
    for name in sorted(set(values) - set(table) - {None, ""}):
        table[name] = len(table)
    lookup = {**table, None: -1, "": -1}
    return np.fromiter(map(lookup.__getitem__, values), np.int64, len(values))


def _legs(c: LedgerColumns, names: dict[str, int], accounts: dict[str, int]) -> list[tuple]:
    """(rows, slot, account codes, asset codes, quantity, magnitude, flow, role) per kind of leg."""
    t, q, fee = c.type, c.quantity, c.fee_quantity
    if len(t) and not np.isin(t, TYPES).all():
        raise ValueError(f"unknown ledger entry type {t[~np.isin(t, TYPES)][0]!r}")
    account, asset = _codes(c.account, accounts), _codes(c.asset, names)
    to, fee_asset = _codes(c.to_account, accounts), _codes(c.fee_asset, names)
    to = np.where(to < 0, account, to)
    has_fee = (fee_asset >= 0) & (fee != 0)
    split = (t == "ADJUSTMENT") & np.array([s == "split" for s in c.subtype], dtype=bool)
    transfer = t == "TRANSFER"
    from_amount = np.array([s == "fee_from_amount" for s in c.subtype], dtype=bool)
    kept = np.where(transfer & from_amount & has_fee & (fee_asset == asset),
                    fee, 0.0)   # a transfer's fee taken out of its amount
    sign = np.where((t == "WITHDRAWAL") | (t == "FEE") | transfer, -1.0, 1.0)
    flow = np.isin(t, ("DEPOSIT", "WITHDRAWAL")) | ((t == "ADJUSTMENT") & ~split)
    role = np.select([transfer, split, t == "FEE"], [TRANSFER, SPLIT, PAID], PLAIN)
    first = (np.arange(len(t)), 1, account, asset, np.where(split, 0.0, sign * q + kept),
             np.abs(q) + kept, flow, role)
    f = np.flatnonzero(has_fee)
    fees = (f, 0, account[f], fee_asset[f], -fee[f], fee[f], False, PAID)
    tr, trade = np.flatnonzero(transfer), np.flatnonzero(t == "TRADE")
    counter = _codes([c.counter_asset[i] or CASH for i in trade], names)
    second = (np.concatenate([trade, tr]), 2, np.concatenate([account[trade], to[tr]]),
              np.concatenate([counter, asset[tr]]),
              np.concatenate([-c.counter_quantity[trade], q[tr] - kept[tr]]),
              np.concatenate([c.counter_quantity[trade], q[tr] + kept[tr]]),
              False, np.concatenate([np.full(len(trade), PLAIN), np.full(len(tr), TRANSFER)]))
    return [fees, first, second]


def expand(c: LedgerColumns) -> Moves:
    """Every movement of every entry, as ``analytics.ledger.replay`` orders them."""
    names: dict[str, int] = {}
    accounts: dict[str, int] = {}
    parts = _legs(c, names, accounts)
    rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
    seq = 3 * rows + np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    order = np.argsort(seq, kind="stable")

    def column(i: int, dtype) -> np.ndarray:
        return np.concatenate([np.broadcast_to(np.asarray(p[i], dtype=dtype), len(p[0]))
                               for p in parts])[order]

    asset = column(3, np.int64)
    pairs, key = np.unique(column(2, np.int64) * len(names) + asset, return_inverse=True)
    rows, role = rows[order], column(7, np.int64)
    account_names, asset_names = list(accounts), list(names)
    moves = Moves(rows, c.day[rows], key.reshape(-1), asset, column(4, float), column(5, float),
                  column(6, bool), role, np.where(role == SPLIT, c.quantity[rows], 0.0),
                  [(account_names[k // len(names)], asset_names[k % len(names)])
                   for k in pairs.tolist()], asset_names)
    _apply_splits(moves)
    return moves


def _apply_splits(m: Moves) -> None:
    """A split adds ``held * (ratio - 1)``: held is its key's balance before the split."""
    for i in np.flatnonzero(m.role == SPLIT):
        before = (m.key[:i] == m.key[i]) & (m.row[:i] < m.row[i])
        held = float(m.quantity[:i][before].sum())
        m.quantity[i] = held * (m.ratio[i] - 1.0)
        m.magnitude[i] = abs(m.quantity[i])


def running_balances(m: Moves) -> tuple[np.ndarray, np.ndarray]:
    """Per movement, its key's float balance after it and the error bound of that balance."""
    balance, tol = np.empty_like(m.quantity), np.empty_like(m.magnitude)
    order = np.argsort(m.key, kind="stable")
    bounds = np.flatnonzero(np.diff(m.key[order])) + 1
    for mine in np.split(order, bounds) if len(order) else []:
        balance[mine] = np.cumsum(m.quantity[mine])  # one key at a time: no cancellation
        tol[mine] = TOLERANCE * np.cumsum(m.magnitude[mine])
    return balance, tol


def negative_balances(c: LedgerColumns, m: Moves) -> list[NegativeBalance]:
    """Every (account, asset) whose exact balance goes below zero, where it first does.

    Exactly ``replay(entries).negative``: a key whose float balance stays above its error
    bound cannot go negative; the others (and keys with a split) are replayed with exact
    decimals, each up to the first movement where its balance is certainly negative.
    """
    balance, tol = running_balances(m)
    doubtful = balance <= tol
    suspects = set(m.key[doubtful].tolist()) | set(m.key[m.role == SPLIT].tolist())
    if not suspects:
        return []
    rows: set[int] = set()
    for k in suspects:
        mine = np.flatnonzero(m.key == k)
        sure = mine[balance[mine] < -tol[mine]]
        upto = int(sure[0]) if len(sure) else int(mine[-1])
        rows.update(m.row[mine[mine <= upto]].tolist())
    wanted = {m.keys[k] for k in suspects}
    exact = replay(c.entry(i) for i in sorted(rows))
    return [n for n in exact.negative if (n.account, n.asset) in wanted]


def day_deltas(m: Moves, origin: date, n_days: int, columns: dict[str, int],
               upto: int) -> np.ndarray:
    """Days x assets: the net quantity each day adds (movements of the first ``upto``)."""
    rows = m.day[:upto] - origin.toordinal()
    cols = np.array([columns.get(a, -1) for a in m.assets], dtype=np.int64)[m.asset[:upto]]
    flat = np.bincount(rows * len(columns) + cols, m.quantity[:upto], n_days * len(columns))
    return flat.reshape(n_days, len(columns))
