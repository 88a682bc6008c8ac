"""Performance in BTC and USD: the worked example of issue 14 by hand, and the conventions."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal

import pandas as pd
import pytest

from analytics.ledger import Entry
from analytics.performance import MissingPriceError, daily_twr, max_drawdown
from analytics.performance_report import performance_report


def entry(kind: str, day: str, asset: str, qty, **kw) -> Entry:
    d = date.fromisoformat(day)
    dec = {k: Decimal(str(v)) for k, v in kw.items() if k.endswith("quantity")}
    return Entry(type=kind, ts=datetime.combine(d, time(12), timezone.utc), trade_date=d,
                 asset=asset, quantity=Decimal(str(qty)), **{**kw, **dec})


def closes(points: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Wide USD closes from {day: {symbol: close}} (as-of: a day without a row uses the last)."""
    frame = pd.DataFrame.from_dict(points, orient="index")
    frame.index = pd.to_datetime(frame.index, utc=True)
    return frame


# The worked example of issue 14. Prices hold between the listed days (as-of closes); the
# July prices are already there at the close of 30 June, so the deposit of 1 July (counted
# at the start of that day) meets the ETH position at $3,000 / BTC $60,000.
EXAMPLE_CLOSES = closes({
    "2024-01-01": {"BTC": 40_000, "ETH": 2_500},
    "2024-06-30": {"BTC": 60_000, "ETH": 3_000},
    "2024-12-31": {"BTC": 90_000, "ETH": 3_300},
})
EXAMPLE = [
    entry("DEPOSIT", "2024-01-01", "USD", 10_000),
    entry("TRADE", "2024-01-01", "ETH", 4, counter_asset="USD", counter_quantity=10_000),
    entry("DEPOSIT", "2024-07-01", "USD", 6_000),
]


def test_performance_worked_example_by_hand():
    report = performance_report(EXAMPLE, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    # 1 Jan: $10,000 in at BTC $40,000 = 0.25 BTC; bought 4 ETH at $2,500: V = 0.25 BTC, r = 0.
    # 30 Jun: 4 ETH x $3,000 = $12,000 / $60,000 = 0.2 BTC: sub-period 0.2 / 0.25 = 0.8.
    # 1 Jul: $6,000 in = 0.1 BTC at the start of the day: V = 0.2 + 0.1 = 0.3 BTC, r = 0.
    # 31 Dec: 4 x $3,300 + $6,000 = $19,200 / $90,000 = 0.213333 BTC: 0.213333 / 0.3 = 0.711111.
    # TWR in BTC = 0.8 x 0.711111 - 1 = -0.431111 (-43.1 %).
    assert report["twr_btc"] == pytest.approx(0.8 * (19_200 / 90_000 / 0.3) - 1, abs=1e-12)
    assert round(report["twr_btc"], 3) == -0.431
    # HODL: 0.25 + 0.1 BTC bought with the deposits, held: 0.35 BTC.
    assert report["hodl_btc"] == pytest.approx(0.35, abs=1e-12)
    # vs HODL: 0.213333 - 0.35 = -0.136667 BTC = -13,666,667 sats.
    assert report["vs_hodl_btc"] == pytest.approx(19_200 / 90_000 - 0.35, abs=1e-12)
    assert round(report["vs_hodl_btc"], 4) == -0.1367
    assert report["vs_hodl_sats"] == -13_666_667
    assert report["value_btc_end"] == pytest.approx(0.213333333, abs=1e-9)
    assert report["net_flows_btc"] == pytest.approx(0.35)
    # In USD: 10,000 -> 12,000 (x1.2), then 18,000 -> 19,200 (x1.0667): TWR = +28 %.
    assert report["twr_usd"] == pytest.approx(1.2 * 19_200 / 18_000 - 1, abs=1e-12)
    # Cost basis: ETH bought for 0.25 BTC / $10,000; USD cash: 0.1 BTC / $6,000.
    eth, usd = report["assets"]["ETH"], report["assets"]["USD"]
    assert eth["cost_basis_btc"] == pytest.approx(0.25) and eth["cost_basis_usd"] == 10_000
    assert eth["unrealised_btc"] == pytest.approx(13_200 / 90_000 - 0.25)
    assert usd["cost_basis_btc"] == pytest.approx(0.1)
    # Idle cash lost in BTC terms: $6,000 was 0.1 BTC, is 0.0667 BTC.
    assert usd["unrealised_btc"] == pytest.approx(6_000 / 90_000 - 0.1)


def test_performance_worked_example_xirr_solves_the_npv_equation():
    report = performance_report(EXAMPLE, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    rate = report["mwr_btc"]
    # Flows in BTC, actual/365: -0.25 on 1 Jan, -0.1 on 1 Jul (182 days), +0.213333 on 31 Dec
    # (365 days). The rate zeroes the net present value:
    npv = -0.25 - 0.1 / (1 + rate) ** (182 / 365) + (19_200 / 90_000) / (1 + rate) ** (365 / 365)
    assert abs(npv) < 1e-9
    assert -0.6 < rate < -0.4


def test_performance_btc_only_ledger_is_flat_in_btc():
    ledger = [entry("DEPOSIT", "2024-01-01", "BTC", 0.5),
              entry("DEPOSIT", "2024-07-01", "BTC", 0.25),
              entry("WITHDRAWAL", "2024-10-01", "BTC", 0.1)]
    report = performance_report(ledger, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    assert report["twr_btc"] == 0.0
    assert report["vs_hodl_btc"] == 0.0
    assert report["value_btc_end"] == pytest.approx(0.65)
    # ... while in USD it is BTC's own move: 40k -> 60k -> 90k.
    assert report["twr_usd"] == pytest.approx(90_000 / 40_000 - 1)


def test_performance_transfer_between_own_accounts_is_neutral():
    base = [entry("DEPOSIT", "2024-01-01", "ETH", 4, account="exchange")]
    moved = [*base, entry("TRANSFER", "2024-03-01", "ETH", 4, account="exchange",
                          to_account="wallet")]
    a = performance_report(base, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    b = performance_report(moved, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    for key in ("twr_btc", "mwr_btc", "value_btc_end", "hodl_btc", "twr_usd"):
        assert b[key] == pytest.approx(a[key], abs=1e-15), key
    assert b["assets"]["ETH"]["cost_basis_btc"] == a["assets"]["ETH"]["cost_basis_btc"]


def test_performance_fees_reduce_performance():
    base = [entry("DEPOSIT", "2024-01-01", "ETH", 4)]
    with_fee = [entry("DEPOSIT", "2024-01-01", "ETH", 4),
                entry("FEE", "2024-02-01", "ETH", 0.01)]
    with_transfer_fee = [*base, entry("TRANSFER", "2024-03-01", "ETH", 4, to_account="cold",
                                      fee_asset="ETH", fee_quantity=0.01)]
    clean = performance_report(base, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    for ledger in (with_fee, with_transfer_fee):
        report = performance_report(ledger, EXAMPLE_CLOSES, end=date(2024, 12, 31))
        assert report["twr_btc"] < clean["twr_btc"]
        assert report["assets"]["ETH"]["quantity"] == pytest.approx(3.99)
        # The fee is a loss: its lot's cost is realised without proceeds.
        assert report["assets"]["ETH"]["realised_btc"] == pytest.approx(-0.01 * 2_500 / 40_000)


def test_performance_split_entry_multiplies_position_and_is_not_a_flow():
    ledger = [entry("DEPOSIT", "2024-01-01", "ETH", 4),
              entry("ADJUSTMENT", "2024-12-31", "ETH", 2, subtype="split")]
    report = performance_report(ledger, EXAMPLE_CLOSES, end=date(2024, 12, 31))
    assert report["assets"]["ETH"]["quantity"] == 8.0
    assert report["net_flows_btc"] == pytest.approx(0.25)
    assert report["assets"]["ETH"]["cost_basis_btc"] == pytest.approx(0.25)  # cost unchanged


def test_performance_start_value_is_the_first_flow_of_a_later_period():
    report = performance_report(EXAMPLE, EXAMPLE_CLOSES, start=date(2024, 7, 1),
                                end=date(2024, 12, 31))
    # The period starts from the close of 30 June: 0.2 BTC; then 0.1 in; ends 0.213333.
    assert report["value_btc_start"] == pytest.approx(0.2)
    assert report["twr_btc"] == pytest.approx(19_200 / 90_000 / 0.3 - 1)
    assert report["hodl_btc"] == pytest.approx(0.3)


def test_performance_cost_basis_methods_differ_as_they_should():
    ledger = [entry("DEPOSIT", "2024-01-01", "USD", 20_000),
              entry("TRADE", "2024-01-01", "ETH", 2, counter_asset="USD", counter_quantity=5_000),
              entry("TRADE", "2024-06-30", "ETH", 2, counter_asset="USD", counter_quantity=6_000),
              entry("TRADE", "2024-12-31", "USD", 3_300, counter_asset="ETH",
                    counter_quantity=1)]
    cost = {m: performance_report(ledger, EXAMPLE_CLOSES, end=date(2024, 12, 31), method=m)
            ["assets"]["ETH"]["cost_basis_usd"] for m in ("fifo", "lifo", "hifo", "average")}
    # Lots cost $2,500 and $3,000 each; one ETH sold.
    assert cost["fifo"] == pytest.approx(2_500 + 2 * 3_000)
    assert cost["lifo"] == pytest.approx(2 * 2_500 + 3_000)
    # HIFO sells the dearest in BTC: Jan lot 0.0625 BTC/ETH vs Jun 0.05: the January one.
    assert cost["hifo"] == pytest.approx(cost["fifo"])
    assert cost["average"] == pytest.approx(3 * (5_000 + 6_000) / 4)


def test_performance_refuses_an_unpriced_holding_and_reversed_period():
    with pytest.raises(MissingPriceError, match="SOL"):
        performance_report([entry("DEPOSIT", "2024-01-01", "SOL", 1)], EXAMPLE_CLOSES,
                           end=date(2024, 12, 31))
    with pytest.raises(ValueError, match="start"):
        performance_report(EXAMPLE, EXAMPLE_CLOSES, start=date(2024, 12, 31),
                           end=date(2024, 1, 1))


def test_daily_twr_counts_inflows_at_start_and_outflows_at_end():
    import numpy as np
    # Day 1: 100 in, ends 110. Day 2: 50 out at end, ends 60 (was 110 -> 110 before the flow).
    r = daily_twr(np.array([110.0, 60.0]), np.array([100.0, 0.0]), np.array([0.0, 50.0]), 0.0)
    assert r.tolist() == pytest.approx([0.1, 0.0])


def test_max_drawdown_reports_peak_trough_and_recovery():
    index = pd.Series([1.0, 1.2, 0.9, 1.0, 1.3],
                      index=pd.date_range("2024-01-01", periods=5, tz="UTC"))
    dd = max_drawdown(index)
    assert dd == {"depth": pytest.approx(0.9 / 1.2 - 1), "peak": "2024-01-02",
                  "trough": "2024-01-03", "recovered": "2024-01-05"}
