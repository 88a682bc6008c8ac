"""Parsing transaction files: every bad-row case, type mapping, export∘import identity."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.ledger import Entry
from analytics.ledger_export import export_csv, export_ghostfolio
from analytics.ledger_import import parse_import

UNIVERSE = {"BTC", "ETH", "SPY", "AAPL", "SOL"}
HEADER = ("date,type,account,asset,quantity,price,price_currency,fee,fee_asset,counter_asset,"
          "counter_quantity,to_account,external_id,note\n")
GOOD = "2024-01-02,DEPOSIT,,USD,100,,,,,,,,,\n"


def parse(body: str, **kw):
    return parse_import(HEADER + body, universe=UNIVERSE, **kw)


@pytest.mark.parametrize(("row", "field", "reason"), [
    (",DEPOSIT,,USD,1,,,,,,,,,", "date", "missing"),
    ("2024-02-30,DEPOSIT,,USD,1,,,,,,,,,", "date", "not an ISO date"),
    ("yesterday,DEPOSIT,,USD,1,,,,,,,,,", "date", "not an ISO date"),
    ("2024-01-02,,,USD,1,,,,,,,,,", "type", "missing"),
    ("2024-01-02,LIABILITY,,USD,1,,,,,,,,,", "type", "unsupported type"),
    ("2024-01-02,DEPOSIT,,,1,,,,,,,,,", "asset", "missing"),
    ("2024-01-02,DEPOSIT,,DOGE,1,,,,,,,,,", "asset", "not an asset"),
    ("2024-01-02,DEPOSIT,,EUR,1,,,,,,,,,", "asset", "not an asset"),
    ("2024-01-02,DEPOSIT,,ETH,,,,,,,,,,", "quantity", "missing"),
    ("2024-01-02,DEPOSIT,,ETH,abc,,,,,,,,,", "quantity", "not a number"),
    ("2024-01-02,DEPOSIT,,ETH,NaN,,,,,,,,,", "quantity", "finite"),
    ("2024-01-02,DEPOSIT,,ETH,inf,,,,,,,,,", "quantity", "finite"),
    ("2024-01-02,DEPOSIT,,ETH,-1,,,,,,,,,", "quantity", "negative"),
    ("2024-01-02,DEPOSIT,,ETH,0,,,,,,,,,", "quantity", "zero"),
    ("2024-01-02,DEPOSIT,,ETH,1e13,,,,,,,,,", "quantity", "larger"),
    ("2024-01-02,DEPOSIT,,ETH,0.0000000000000000001,,,,,,,,,", "quantity", "decimal places"),
    ("2024-01-02,DEPOSIT,,ETH,\"1,5\",,,,,,,,,", "quantity", "not a number"),
    ("2024-01-02,BUY,,ETH,1,,,,,,,,,", "price", "needs a price"),
    ("2024-01-02,BUY,,ETH,1,abc,,,,,,,,", "price", "not a number"),
    ("2024-01-02,BUY,,ETH,1,2000,EUR,,,,,,,", "price_currency", "not an asset"),
    ("2024-01-02,BUY,,ETH,1,2000,USD,-1,,,,,,", "fee", "negative"),
    ("2024-01-02,DEPOSIT,,ETH,1,,,1,DOGE,,,,,", "fee_asset", "not an asset"),
    ("2024-01-02,TRANSFER,a,ETH,1,,,,,,,,,", "to_account", "to_account"),
    ("2024-01-02,TRANSFER,a,ETH,1,,,,,,,a,,", "to_account", "to_account"),
    ("2024-01-02,DEPOSIT,,ETH,1,,,,,,,,,\x07bell", "note", "control characters"),
    ("2024-01-02,DEPOSIT,,ETH,1,,,,,,,," + "x" * 200 + ",", "external_id", "longer"),
    ("2024-01-02,FEE,,USD,,,,,,,,,,", "fee", "missing"),
])
def test_ledger_import_bad_row_names_row_field_and_reason(row, field, reason):
    parsed = parse(GOOD + row + "\n" + GOOD)
    assert [(e.row, e.field) for e in parsed.errors] == [(2, field)]
    assert reason in parsed.errors[0].reason


def test_ledger_import_reports_every_bad_row_not_just_the_first():
    parsed = parse("x,DEPOSIT,,USD,1,,,,,,,,,\n" + GOOD + "2024-01-02,DEPOSIT,,DOGE,1,,,,,,,,,\n")
    assert [(e.row, e.field) for e in parsed.errors] == [(1, "date"), (3, "asset")]


@pytest.mark.parametrize(("text", "field"), [
    ("", "file"), ("date,type\n", "header"), (HEADER, "file"),
    ("date,type,asset,Code\n2024-01-02,DEPOSIT,ETH,ETH\n", "header"),
    ("{not json", "file"), ('{"activities": []}', "activities"), ("[1, 2]", "header"),
])
def test_ledger_import_bad_files(text, field):
    parsed = parse_import(text, universe=UNIVERSE)
    assert parsed.errors and parsed.errors[0].field == field


def test_ledger_import_unknown_timezone_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        parse(GOOD, timezone="Mars/Olympus")


def test_ledger_import_dates_with_and_without_offset_in_the_given_zone():
    parsed = parse("2024-01-02T09:00:00,DEPOSIT,,USD,1,,,,,,,,,\n"
                   "2024-01-02T09:00:00-05:00,DEPOSIT,,USD,1,,,,,,,,,\n"
                   "2024-01-02,DEPOSIT,,USD,1,,,,,,,,,\n", timezone="Asia/Tokyo")
    a, b, c = parsed.entries
    assert a.ts == datetime(2024, 1, 2, 0, tzinfo=timezone.utc) and a.trade_date == date(2024, 1, 2)
    # 09:00 in New York is 23:00 in Tokyo: the trade date is the user's day.
    assert b.ts == datetime(2024, 1, 2, 14, tzinfo=timezone.utc)
    assert b.trade_date == date(2024, 1, 2)
    assert c.ts == datetime(2024, 1, 1, 15, tzinfo=timezone.utc) and c.trade_date == date(2024, 1, 2)


def test_ledger_import_buy_sell_and_other_trackers_types():
    parsed = parse("2024-01-02,BUY,,ETH,2,2500,USD,3,,,,,,\n"
                   "2024-01-03,SELL,,ETH,1,2600,,,,,,,,\n"
                   "2024-01-04,buy,,SOL,10,0.01,BTC,,,,,,,\n"
                   "2024-01-05,DIVIDEND,,SPY,10,1.5,USD,,,,,,,\n"
                   "2024-01-06,TRANSFER_IN,,BTC,0.5,,,,,,,,,\n"
                   "2024-01-07,SPLIT,,AAPL,4,,,,,,,,,\n"
                   "2024-01-08,TAX,,USD,12,,,,,,,,,\n")
    rows = [(e.type, e.subtype, e.asset, e.quantity, e.counter_asset, e.counter_quantity,
             e.fee_asset, e.fee_quantity) for e in parsed.entries]
    assert rows == [
        ("TRADE", None, "ETH", Decimal(2), "USD", Decimal(5000), "USD", Decimal(3)),
        ("TRADE", None, "USD", Decimal(2600), "ETH", Decimal(1), None, None),
        ("TRADE", None, "SOL", Decimal(10), "BTC", Decimal("0.1"), None, None),
        ("INCOME", "dividend", "USD", Decimal(15), None, None, None, None),
        ("DEPOSIT", None, "BTC", Decimal("0.5"), None, None, None, None),
        ("ADJUSTMENT", "split", "AAPL", Decimal(4), None, None, None, None),
        ("FEE", None, "USD", Decimal(12), None, None, None, None),
    ]


quantities = st.decimals(min_value=Decimal("0.000000000000000001"), max_value=Decimal("1e9"),
                         places=18, allow_nan=False, allow_infinity=False)
texts = st.none() | st.text(st.characters(codec="utf-8", categories=("L", "N", "P"),
                                          include_characters=" "),
                            min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def ledgers(draw):
    out = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["TRADE", "DEPOSIT", "WITHDRAWAL", "TRANSFER", "INCOME",
                                     "FEE", "ADJUSTMENT"]))
        ts = draw(st.datetimes(datetime(2015, 1, 1), datetime(2030, 1, 1),
                               timezones=st.just(timezone.utc))).replace(microsecond=0)
        fee = draw(st.none() | quantities)
        out.append(Entry(
            type=kind, ts=ts, trade_date=draw(st.dates(date(2015, 1, 1), date(2030, 1, 1))),
            asset=draw(st.sampled_from(["BTC", "ETH", "USD"])),
            quantity=draw(quantities), account=draw(st.sampled_from(["default", "cold"])),
            subtype={"TRANSFER": "fee_on_top", "ADJUSTMENT": "correction",
                     "INCOME": "staking"}.get(kind),
            counter_asset="USD" if kind == "TRADE" else None,
            counter_quantity=draw(quantities) if kind == "TRADE" else None,
            fee_asset="BTC" if fee else None, fee_quantity=fee,
            to_account="ledger-x" if kind == "TRANSFER" else None,
            note=draw(texts), external_id=draw(texts)))
    return out


@given(ledgers())
def test_ledger_export_then_import_is_the_identity(entries):
    parsed = parse_import(export_csv(entries), universe=UNIVERSE)
    assert parsed.errors == []
    assert [e.content() for e in parsed.entries] == [e.content() for e in entries]


def test_ledger_ghostfolio_export_reimports_trades_and_counts_what_it_skips():
    at = datetime(2024, 1, 2, 12, tzinfo=timezone.utc)
    entries = [Entry(type="TRADE", ts=at, trade_date=at.date(), asset="ETH",
                     quantity=Decimal(2), counter_asset="USD", counter_quantity=Decimal(5000)),
               Entry(type="DEPOSIT", ts=at, trade_date=at.date(), asset="USD",
                     quantity=Decimal(5000))]
    text = export_ghostfolio(entries, now=at)
    assert '"skipped": 1' in text
    back = parse_import(text, universe=UNIVERSE).entries
    assert [(e.type, e.asset, e.quantity, e.counter_quantity) for e in back] == [
        ("TRADE", "ETH", Decimal(2), Decimal(5000))]
