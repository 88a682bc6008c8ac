"""The transactions ledger as values (pure): entry records, movements, replay, balances.

An ``Entry`` is one stored ledger row. Quantities are ``Decimal`` (exact; the store keeps their
text). Each entry expands into *movements* — (account, asset, signed quantity) — and holdings
are the sum of movements (``replay``). External flows (what performance treats as money in or
out) are DEPOSIT, WITHDRAWAL and the opening/correction ADJUSTMENTs; a TRADE, TRANSFER, INCOME,
FEE or split only moves value inside the portfolio.

Types and fields (``quantity`` > 0 unless noted):
    TRADE       receive ``asset``/``quantity``, spend ``counter_asset``/``counter_quantity``
    DEPOSIT     ``asset``/``quantity`` comes in (cash or coin)
    WITHDRAWAL  ``asset``/``quantity`` goes out
    TRANSFER    ``quantity`` leaves ``account`` for ``to_account``; the fee is on top of it
                (subtype ``fee_on_top``, default) or taken out of it (``fee_from_amount``)
    INCOME      ``asset``/``quantity`` received in kind (subtype interest, dividend, staking, ...)
    FEE         ``asset``/``quantity`` paid
    ADJUSTMENT  subtype ``opening`` or ``correction``: signed ``quantity`` (a correction may be
                negative); subtype ``split``: ``quantity`` is the ratio (4 = one becomes four)
Every entry may carry a fee (``fee_asset``/``fee_quantity``), paid from ``account``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from analytics.units import USD

TYPES = ("TRADE", "DEPOSIT", "WITHDRAWAL", "TRANSFER", "INCOME", "FEE", "ADJUSTMENT")
ADJUSTMENT_SUBTYPES = ("opening", "correction", "split")
TRANSFER_SUBTYPES = ("fee_on_top", "fee_from_amount")
INCOME_SUBTYPES = ("interest", "dividend", "staking", "mining", "airdrop", "other")
CASH = USD  # cash is a position like any other, priced 1 USD
DEFAULT_ACCOUNT = "default"
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry (see the module docstring for what each type uses)."""

    type: str
    ts: datetime                      # UTC time of the entry
    trade_date: date                  # local trade date: the day whose closes value it
    asset: str
    quantity: Decimal
    account: str = DEFAULT_ACCOUNT
    subtype: str | None = None
    counter_asset: str | None = None
    counter_quantity: Decimal | None = None
    fee_asset: str | None = None
    fee_quantity: Decimal | None = None
    to_account: str | None = None
    note: str | None = None
    external_id: str | None = None
    id: int | None = None
    import_batch: str | None = None
    dedupe_hash: str | None = field(default=None, compare=False)

    def content(self) -> tuple:
        """The fields that make the entry what it is (no id, batch or hash)."""
        return (self.type, self.ts, self.trade_date, self.asset, _norm(self.quantity),
                self.account, self.subtype, self.counter_asset, _norm(self.counter_quantity),
                self.fee_asset, _norm(self.fee_quantity), self.to_account, self.note,
                self.external_id)


@dataclass(frozen=True, slots=True)
class Movement:
    """A signed change of one asset in one account; ``flow`` marks external money in/out."""

    index: int          # position of the entry in the replayed sequence
    trade_date: date
    account: str
    asset: str
    quantity: Decimal
    flow: bool
    fee: bool = False   # the entry's fee (lots: a disposal without proceeds)


@dataclass(frozen=True, slots=True)
class NegativeBalance:
    """A balance below zero after an entry: a buy or deposit is missing before it."""

    account: str
    asset: str
    trade_date: date
    balance: Decimal
    entry_id: int | None


def _norm(value: Decimal | None) -> str | None:
    """Canonical text of a decimal (``4.0`` and ``4`` are the same quantity)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def canonical_quantity(value: Decimal) -> str:
    """The text a quantity is stored and exported as (exact, no exponent, no trailing zeros)."""
    return _norm(value) or "0"


def sort_key(entry: Entry) -> tuple:
    """Replay order: trade date, then time, then storage order."""
    return (entry.trade_date, entry.ts, entry.id if entry.id is not None else 0)


def _fee(entry: Entry, index: int) -> list[Movement]:
    if not entry.fee_asset or not entry.fee_quantity:
        return []
    return [Movement(index, entry.trade_date, entry.account, entry.fee_asset,
                     -entry.fee_quantity, False, fee=True)]


def movements(entry: Entry, index: int, balance_of: dict[tuple[str, str], Decimal]
              ) -> list[Movement]:
    """The signed movements of one entry (a split needs the balance it multiplies)."""
    day, acct, out = entry.trade_date, entry.account, _fee(entry, index)
    qty, kind = entry.quantity, entry.type
    if kind == "TRADE":
        out += [Movement(index, day, acct, entry.asset, qty, False),
                Movement(index, day, acct, entry.counter_asset or CASH,
                         -(entry.counter_quantity or ZERO), False)]
    elif kind in ("DEPOSIT", "WITHDRAWAL"):
        out.append(Movement(index, day, acct, entry.asset, qty if kind == "DEPOSIT" else -qty,
                            True))
    elif kind == "TRANSFER":
        fee = entry.fee_quantity if entry.fee_asset == entry.asset and entry.fee_quantity else ZERO
        from_amount = entry.subtype == "fee_from_amount"
        received = qty - fee if from_amount else qty
        # The fee movement above already takes the fee from ``account``; with the fee out of
        # the amount the sender parts with ``quantity`` in all, so the fee is added back once.
        out += [Movement(index, day, acct, entry.asset, -qty + (fee if from_amount else ZERO),
                         False),
                Movement(index, day, entry.to_account or acct, entry.asset, received, False)]
    elif kind == "INCOME":
        out.append(Movement(index, day, acct, entry.asset, qty, False))
    elif kind == "FEE":
        out.append(Movement(index, day, acct, entry.asset, -qty, False))
    elif kind == "ADJUSTMENT" and entry.subtype == "split":
        held = balance_of.get((acct, entry.asset), ZERO)
        out.append(Movement(index, day, acct, entry.asset, held * (qty - 1), False))
    elif kind == "ADJUSTMENT":
        out.append(Movement(index, day, acct, entry.asset, qty, True))
    else:
        raise ValueError(f"unknown ledger entry type {kind!r}")
    return out


@dataclass(frozen=True, slots=True)
class Replay:
    """Result of replaying a ledger: every movement, balances, negative-balance flags."""

    entries: list[Entry]
    movements: list[Movement]
    balances: dict[tuple[str, str], Decimal]      # (account, asset) -> quantity
    negative: list[NegativeBalance]

    def holdings(self) -> dict[str, Decimal]:
        """Quantity per asset over all accounts, zero positions left out (sorted)."""
        total: dict[str, Decimal] = defaultdict(Decimal)
        for (_, asset), qty in self.balances.items():
            total[asset] += qty
        return {a: q for a, q in sorted(total.items()) if q != 0}


def replay(entries: Iterable[Entry]) -> Replay:
    """Replay entries in trade-date order; flag every balance that goes below zero."""
    ordered = sorted(entries, key=sort_key)
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    moves: list[Movement] = []
    negative: dict[tuple[str, str], NegativeBalance] = {}
    for index, entry in enumerate(ordered):
        for move in movements(entry, index, balances):
            key = (move.account, move.asset)
            balances[key] += move.quantity
            moves.append(move)
            if balances[key] < 0 and key not in negative:
                negative[key] = NegativeBalance(move.account, move.asset, move.trade_date,
                                                balances[key], entry.id)
    return Replay(ordered, moves, dict(balances), list(negative.values()))


def dedupe_hash(entry: Entry, portfolio: str, occurrence: int = 0) -> str:
    """Identity of an entry for re-import: its external id if it has one, else its content.

    ``occurrence`` numbers identical rows within one file, so two equal legitimate rows (two
    identical buys on a day) are both kept while re-importing the file adds neither again.
    """
    if entry.external_id:
        basis = f"{portfolio}\x1fext\x1f{entry.account}\x1f{entry.external_id}"
    else:
        parts = [str(p) for p in replace(entry, note=None).content()]
        basis = "\x1f".join([portfolio, *parts, str(occurrence)])
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def daily_positions(entries: Iterable[Entry], days: list[date]
                    ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per asset, the quantity held at the end of each day and that day's external flows.

    ``days`` are consecutive calendar days; entries before the first count in its opening
    position, entries after the last are left out.

    Returns:
        ``(held, flows)``: symbol -> one float per day (flows signed: + in, - out).
    """
    result = replay(entries)
    first, n = days[0], len(days)
    held: dict[str, list[float]] = {}
    flows: dict[str, list[float]] = {}
    for move in result.movements:
        row = max((move.trade_date - first).days, 0)
        if row >= n:
            continue
        held.setdefault(move.asset, [0.0] * n)[row] += float(move.quantity)
        if move.flow and move.trade_date >= first:
            flows.setdefault(move.asset, [0.0] * n)[row] += float(move.quantity)
    for series in held.values():
        running = 0.0
        for i, delta in enumerate(series):
            running += delta
            series[i] = running
    return held, flows
