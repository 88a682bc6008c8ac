"""The vectorised replay (analytics.ledger_arrays) against the exact Decimal replay.

Random ledgers of every entry type (splits, transfers with the fee on top or out of the
amount, fees in any asset, two accounts, same-day entries ordered by time and id): per day and
asset the array holdings equal the exact replay's to 1e-9, the movements are the same legs in
the same order, negative-balance flags are exactly the exact replay's, and the lots walked from
the arrays equal the lots walked from the exact replay's movements.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.ledger import TYPES, Entry, replay
from analytics.ledger_arrays import columns_from_entries, day_deltas, expand, negative_balances
from analytics.lots import Position, acquire, cost_basis, dispose, split
from analytics.performance import build_grid

ASSETS = ("BTC", "ETH", "AAPL", "USD")
ACCOUNTS = ("a", "b")
FIRST, LAST = date(2024, 1, 1), date(2024, 1, 20)
quantities = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("10000"),
                         places=8, allow_nan=False, allow_infinity=False)


@st.composite
def ledger_entry(draw, entry_id: int) -> Entry:
    kind, qty, subtype = draw(st.sampled_from(TYPES)), draw(quantities), None
    if kind == "ADJUSTMENT":
        subtype = draw(st.sampled_from(["opening", "correction", "split", None]))
        if subtype == "split":
            qty = draw(st.sampled_from([Decimal(2), Decimal(3), Decimal("0.5")]))
        elif draw(st.booleans()):
            qty = -qty
    elif kind == "TRANSFER":
        subtype = draw(st.sampled_from(["fee_on_top", "fee_from_amount"]))
    asset, fee = draw(st.sampled_from(ASSETS)), draw(st.none() | quantities)
    day = draw(st.dates(FIRST, LAST))
    return Entry(
        type=kind, ts=datetime(day.year, day.month, day.day, draw(st.integers(0, 2)),
                               tzinfo=timezone.utc),
        trade_date=day, asset=asset, quantity=qty, account=draw(st.sampled_from(ACCOUNTS)),
        subtype=subtype,
        counter_asset=draw(st.sampled_from((*ASSETS, None))) if kind == "TRADE" else None,
        counter_quantity=draw(quantities) if kind == "TRADE" else None,
        fee_asset=(draw(st.sampled_from((asset, *ASSETS))) if fee else None), fee_quantity=fee,
        to_account=draw(st.sampled_from((*ACCOUNTS, None))) if kind == "TRANSFER" else None,
        id=entry_id)


ledgers = st.integers(1, 40).flatmap(
    lambda n: st.tuples(*[ledger_entry(i + 1) for i in range(n)])).map(list)


def exact_per_day(ledger: list[Entry]) -> dict[date, dict[str, Decimal]]:
    """Per day, every asset's exact balance at its end (over all accounts)."""
    by_day: dict[date, list] = defaultdict(list)
    for move in replay(ledger).movements:
        by_day[move.trade_date].append(move)
    running: dict[str, Decimal] = defaultdict(Decimal)
    out = {}
    for i in range((LAST - FIRST).days + 1):
        day = FIRST + timedelta(days=i)
        for move in by_day[day]:
            running[move.asset] += move.quantity
        out[day] = dict(running)
    return out


@settings(max_examples=150, deadline=None)
@given(ledgers)
def test_vectorised_replay_equals_the_exact_replay_per_day(ledger):
    moves = expand(columns_from_entries(ledger))
    columns = {a: i for i, a in enumerate(moves.assets)}
    n = (LAST - FIRST).days + 1
    held = np.cumsum(day_deltas(moves, FIRST, n, columns, len(moves.day)), axis=0)
    for i, (day, exact) in enumerate(exact_per_day(ledger).items()):
        assert day == FIRST + timedelta(days=i)
        for asset, col in columns.items():
            assert held[i, col] == pytest.approx(float(exact.get(asset, 0)), rel=1e-12,
                                                 abs=1e-9), (day, asset)


@settings(max_examples=150, deadline=None)
@given(ledgers)
def test_vectorised_movements_are_the_exact_legs_and_flags_are_exact(ledger):
    exact = replay(ledger)
    columns = columns_from_entries(ledger)
    moves = expand(columns)
    assert [(m.account, m.asset, m.flow, m.trade_date.toordinal(), exact.entries[m.index].id)
            for m in exact.movements] == [
        (*moves.keys[k], f, d, columns.ids[r]) for k, f, d, r in zip(
            moves.key.tolist(), moves.flow.tolist(), moves.day.tolist(), moves.row.tolist(),
            strict=True)]
    assert moves.quantity.tolist() == pytest.approx(
        [float(m.quantity) for m in exact.movements], rel=1e-12, abs=1e-9)
    assert negative_balances(columns, moves) == exact.negative


def _entry(kind: str, qty: str, hour: int, asset: str = "USD") -> Entry:
    return Entry(type=kind, ts=datetime(2024, 1, 1, hour, tzinfo=timezone.utc),
                 trade_date=FIRST, asset=asset, quantity=Decimal(qty), id=hour)


def test_a_float_rounding_below_zero_is_not_a_missing_deposit():
    # 0.3 - 0.1 - 0.2 is -2.8e-17 in floats and exactly 0 in the ledger: no flag.
    ledger = [_entry("DEPOSIT", "0.3", 1), _entry("WITHDRAWAL", "0.1", 2),
              _entry("WITHDRAWAL", "0.2", 3)]
    assert 0.3 - 0.1 - 0.2 < 0
    columns = columns_from_entries(ledger)
    assert negative_balances(columns, expand(columns)) == []
    # One sat more out than in is a missing deposit, with its exact balance and entry.
    ledger.append(_entry("WITHDRAWAL", "0.00000001", 4))
    columns = columns_from_entries(ledger)
    flags = negative_balances(columns, expand(columns))
    assert [(f.asset, f.balance, f.entry_id) for f in flags] == [("USD", Decimal("-1E-8"), 4)]


def test_unknown_entry_type_is_refused():
    with pytest.raises(ValueError, match="BOGUS"):
        expand(columns_from_entries([_entry("BOGUS", "1", 1)]))


CLOSES = pd.DataFrame(
    {"BTC": [40_000.0 + 250 * i for i in range(60)], "ETH": [2_000.0 - 9 * i for i in range(60)],
     "AAPL": [180.0 + (i % 7) for i in range(60)]},
    index=pd.date_range("2023-12-15", periods=60, freq="D", tz="UTC"))


def walked_lots(ledger: list[Entry], grid, method: str) -> dict[str, Position]:
    """The lots walked movement by movement over the exact replay (the reference)."""
    exact = replay(ledger)
    positions: dict[str, Position] = defaultdict(Position)
    col = {a: i for i, a in enumerate(grid.assets)}
    for move in exact.movements:
        entry, row = exact.entries[move.index], (move.trade_date - FIRST).days
        price, usd = grid.price_btc[row, col[move.asset]], grid.btc_usd[row]
        pos, qty = positions[move.asset], float(move.quantity)
        if entry.type == "TRANSFER" and not move.fee:
            continue
        if entry.type == "ADJUSTMENT" and entry.subtype == "split" and not move.fee:
            split(pos, float(entry.quantity))
        elif qty > 0:
            acquire(pos, qty, price, usd, method)
        elif qty < 0:
            proceeds = 0.0 if entry.type == "FEE" or move.fee else -qty * price
            dispose(pos, -qty, proceeds, proceeds * usd, method)
    return positions


@settings(max_examples=60, deadline=None)
@given(ledgers, st.sampled_from(["fifo", "lifo", "hifo", "average"]))
def test_lots_from_the_arrays_equal_lots_walked_over_the_exact_replay(ledger, method):
    grid = build_grid(ledger, CLOSES, end=LAST, first=FIRST)
    ours, reference = cost_basis(grid, method=method), walked_lots(ledger, grid, method)
    assert sorted(ours) == sorted(reference)
    for asset, pos in reference.items():
        assert [x for lot in ours[asset].lots for x in (lot.quantity, lot.cost_btc,
                                                         lot.cost_usd)] == pytest.approx(
            [x for lot in pos.lots for x in (lot.quantity, lot.cost_btc, lot.cost_usd)])
        assert (ours[asset].realised_btc, ours[asset].realised_usd) == pytest.approx(
            (pos.realised_btc, pos.realised_usd))
