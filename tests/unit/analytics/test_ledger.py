"""Ledger replay: movements per type, balances per account, negative flags, dedupe hashes."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from analytics.ledger import Entry, dedupe_hash, replay

AT = datetime(2024, 3, 1, tzinfo=timezone.utc)
ASSETS = ("BTC", "ETH", "USD")
quantities = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"),
                         places=8, allow_nan=False, allow_infinity=False)


@st.composite
def entries(draw):
    kind = draw(st.sampled_from(["TRADE", "DEPOSIT", "WITHDRAWAL", "TRANSFER", "INCOME",
                                 "FEE", "ADJUSTMENT"]))
    day = draw(st.dates(date(2021, 1, 1), date(2024, 12, 31)))
    fee = draw(st.none() | quantities)
    return Entry(type=kind, ts=datetime(day.year, day.month, day.day, tzinfo=timezone.utc),
                 trade_date=day, asset=draw(st.sampled_from(ASSETS)), quantity=draw(quantities),
                 account=draw(st.sampled_from(["a", "b"])),
                 subtype=("correction" if kind == "ADJUSTMENT" else
                          draw(st.sampled_from(["fee_on_top", "fee_from_amount"]))
                          if kind == "TRANSFER" else None),
                 counter_asset=draw(st.sampled_from(ASSETS)) if kind == "TRADE" else None,
                 counter_quantity=draw(quantities) if kind == "TRADE" else None,
                 fee_asset=draw(st.sampled_from(ASSETS)) if fee else None, fee_quantity=fee,
                 to_account="b" if kind == "TRANSFER" else None)


def plain_sum(ledger: list[Entry]) -> dict[str, Decimal]:
    """Per asset, the sum of what each entry adds and removes (written out, no replay)."""
    total: dict[str, Decimal] = defaultdict(Decimal)
    for e in ledger:
        sign = {"TRADE": 1, "DEPOSIT": 1, "INCOME": 1, "ADJUSTMENT": 1, "WITHDRAWAL": -1,
                "FEE": -1, "TRANSFER": 0}[e.type]
        total[e.asset] += sign * e.quantity
        if e.type == "TRADE":
            total[e.counter_asset] -= e.counter_quantity
        if e.fee_quantity:
            total[e.fee_asset] -= e.fee_quantity
    return {a: q for a, q in sorted(total.items()) if q != 0}


@given(st.lists(entries(), max_size=30))
def test_ledger_replay_equals_the_sum_of_entries(ledger):
    assert replay(ledger).holdings() == plain_sum(ledger)


def test_ledger_transfer_moves_between_accounts_fee_on_top_or_from_amount():
    on_top = Entry(type="TRANSFER", ts=AT, trade_date=AT.date(), asset="BTC",
                   quantity=Decimal("1"), account="ex", to_account="cold",
                   fee_asset="BTC", fee_quantity=Decimal("0.0001"))
    start = Entry(type="DEPOSIT", ts=AT, trade_date=AT.date(), asset="BTC", quantity=Decimal(2),
                  account="ex")
    balances = replay([start, on_top]).balances
    assert balances[("ex", "BTC")] == Decimal("0.9999")
    assert balances[("cold", "BTC")] == Decimal("1")
    from dataclasses import replace
    out_of = replace(on_top, subtype="fee_from_amount")
    balances = replay([start, out_of]).balances
    assert balances[("ex", "BTC")] == Decimal("1")
    assert balances[("cold", "BTC")] == Decimal("0.9999")


def test_ledger_negative_balance_is_flagged_once_with_its_day():
    sell = Entry(type="WITHDRAWAL", ts=AT, trade_date=AT.date(), asset="ETH",
                 quantity=Decimal(1), id=7)
    result = replay([sell, sell])
    assert [(n.asset, n.balance, n.entry_id) for n in result.negative] == [("ETH", -1, 7)]
    assert result.holdings() == {"ETH": Decimal(-2)}  # shown, never hidden


def test_ledger_split_is_applied_to_the_balance_at_its_date():
    buy = Entry(type="DEPOSIT", ts=AT, trade_date=date(2024, 1, 1), asset="AAPL",
                quantity=Decimal(3))
    split = Entry(type="ADJUSTMENT", subtype="split", ts=AT, trade_date=date(2024, 2, 1),
                  asset="AAPL", quantity=Decimal(4))
    later = Entry(type="DEPOSIT", ts=AT, trade_date=date(2024, 3, 1), asset="AAPL",
                  quantity=Decimal(1))
    assert replay([later, split, buy]).holdings() == {"AAPL": Decimal(13)}


def test_ledger_dedupe_hash_numbers_identical_rows_and_prefers_external_id():
    a = Entry(type="DEPOSIT", ts=AT, trade_date=AT.date(), asset="ETH", quantity=Decimal("1.0"))
    same = Entry(type="DEPOSIT", ts=AT, trade_date=AT.date(), asset="ETH", quantity=Decimal(1))
    assert dedupe_hash(a, "p") == dedupe_hash(same, "p")         # 1.0 is 1
    assert dedupe_hash(a, "p", 0) != dedupe_hash(a, "p", 1)       # two equal rows of a file
    assert dedupe_hash(a, "p") != dedupe_hash(a, "q")
    from dataclasses import replace
    tagged = replace(a, external_id="x1")
    assert dedupe_hash(tagged, "p") == dedupe_hash(replace(tagged, quantity=Decimal(9)), "p")
