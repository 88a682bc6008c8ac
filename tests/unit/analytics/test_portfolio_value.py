"""Portfolio valuation in BTC, its JSON payload, the daily BTC history and the full report."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.btc_converter import BTCConverter
from analytics.portfolio_history import daily_dates, value_quantities
from analytics.portfolio_value import revalue, value_portfolio
from analytics.staleness import NoPriceError
from data.store.seed import read_sample
from queries.price_cache import ConversionCache
from tests.support.sample import SAMPLE
from webapi.payloads import history_payload, portfolio_payload

KINDS = {"BTC": "crypto", "ETH": "crypto", "SOL": "crypto", "MATIC": "crypto", "USDC": "crypto",
         "SPY": "equity"}
NOW = pd.Timestamp("2024-01-08 12:05", tz="UTC")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def latest_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["symbol", "price_usd", "ts", "source", "kind"])


@pytest.fixture
def latest() -> pd.DataFrame:
    return latest_frame([
        ("BTC", 49000.0, ts("2024-01-08"), "sample", "close"),
        ("BTC", 50000.0, ts("2024-01-08 12:00"), "coingecko", "quote"),
        ("ETH", 2500.0, ts("2024-01-08"), "sample", "close"),
        # Stamped 30 s after BTC's quote, as CoinGecko stamps each coin: still before now.
        ("ETH", 2600.0, ts("2024-01-08 12:00:30"), "coingecko", "quote"),
        ("SPY", 500.0, ts("2024-01-05"), "yahoo", "close"),                  # Friday close
    ])


CLOSES = pd.DataFrame(
    {"BTC": [40000.0, 42000.0, 44000.0, 45000.0], "ETH": [2000.0, 2520.0, 2200.0, 2250.0],
     "SPY": [470.0, np.nan, np.nan, 475.0], "SOL": [np.nan, np.nan, 100.0, 90.0]},
    index=pd.date_range("2024-01-05", periods=4, freq="D", tz="UTC"))


# ---- latest valuation -----------------------------------------------------------------------

def test_value_portfolio_hand_example(latest):
    val = value_portfolio({"BTC": 1, "ETH": 10, "SPY": 20}, latest, asset_kinds=KINDS, now=NOW)
    # as_of = the BTC quote (12:00, 50000 USD). ETH's quote 30 s later is ETH's own newest
    # price at or before now (12:05): it is used, never the older close.
    # BTC 1; ETH 10 × 2600 / 50000 = 0.52; SPY 20 × 500 / 50000 = 0.2; total 1.72 BTC.
    assert val.as_of == ts("2024-01-08 12:00") and val.btc_usd == 50000.0
    assert val.total_btc == pytest.approx(1.72)
    a = val.assets.set_index("symbol")
    assert a["value_btc"].tolist() == pytest.approx([1.0, 0.52, 0.2])
    assert a["value_sats"].tolist() == [100_000_000, 52_000_000, 20_000_000]
    assert a["value_usd"].tolist() == pytest.approx([50000.0, 26000.0, 10000.0])
    assert a["weight"].tolist() == pytest.approx([1 / 1.72, 0.52 / 1.72, 0.2 / 1.72])
    assert val.btc_allocation == pytest.approx(1 / 1.72)
    assert val.total_usd == pytest.approx(86000.0)
    assert a.loc["ETH", "price_ts"] == ts("2024-01-08 12:00:30")
    assert a.loc["ETH", "source"] == "coingecko"
    # Friday close read on Monday: 3.5 days old, within the 4-day equity limit.
    assert not a["stale"].any()


def test_value_portfolio_flags_old_prices(latest):
    later = NOW + timedelta(minutes=30)  # the BTC quote is now 35 min old (> 10 min)
    val = value_portfolio({"ETH": 1}, latest, asset_kinds=KINDS, now=later)
    assert val.assets["stale"].tolist() == [True]
    assert val.total_btc == pytest.approx(0.052)  # still valued (flagged), not zero


def test_value_portfolio_unpriced_asset_is_listed_not_fatal(latest):
    val = value_portfolio({"SOL": 1, "ETH": 10}, latest, asset_kinds=KINDS, now=NOW)
    assert val.unpriced == ("SOL",)
    assert val.assets["symbol"].tolist() == ["ETH"]
    assert val.total_btc == pytest.approx(0.52)  # SOL is not counted as zero-valued data
    assert portfolio_payload(val)["unpriced"] == ["SOL"]


def test_value_portfolio_values_an_asset_whose_close_is_newer_than_btcs_price():
    # BTC's daily job failed (newest close Jan 6), SPY's did not (Jan 8): SPY is still valued,
    # at its own newest close, converted with BTC's newest price (flagged stale: 2.5 days).
    latest = latest_frame([("BTC", 40000.0, ts("2024-01-06"), "s", "close"),
                           ("SPY", 480.0, ts("2024-01-08"), "s", "close")])
    val = value_portfolio({"SPY": 100}, latest, asset_kinds=KINDS, now=NOW)
    assert val.unpriced == () and val.as_of == ts("2024-01-06")
    assert val.total_btc == pytest.approx(100 * 480 / 40000)
    assert val.assets["price_ts"].tolist() == [ts("2024-01-08")]
    assert val.assets["stale"].tolist() == [True] and val.btc_stale


def test_value_portfolio_never_uses_a_price_after_now(latest):
    early = ts("2024-01-08 12:00:10")  # ETH's quote (12:00:30) is still in the future
    val = value_portfolio({"ETH": 10}, latest, asset_kinds=KINDS, now=early)
    assert val.assets["price_usd"].tolist() == [2500.0]  # its newest close at or before now
    with pytest.raises(NoPriceError):
        value_portfolio({"ETH": 1}, latest, asset_kinds=KINDS, now=ts("2024-01-07"))


def test_revalue_keeps_prices_and_flags_and_adds_btc_at_its_own_price(latest):
    val = value_portfolio({"ETH": 10, "SPY": 20}, latest, asset_kinds=KINDS, now=NOW)
    after = revalue(val, {"ETH": 5, "SPY": 20, "BTC": 0.26})
    a = after.assets.set_index("symbol")
    assert a.loc["ETH", "value_btc"] == pytest.approx(0.26)
    assert a.loc["BTC", "price_usd"] == 50000.0 and a.loc["BTC", "source"] == "coingecko"
    assert a.loc["BTC", "price_ts"] == val.as_of
    assert a.loc["ETH", "price_ts"] == ts("2024-01-08 12:00:30")
    assert after.total_btc == pytest.approx(val.total_btc)
    with pytest.raises(ValueError, match="SOL"):
        revalue(val, {"SOL": 1})


def test_value_portfolio_without_a_btc_price_raises(latest):
    with pytest.raises(NoPriceError):
        value_portfolio({"ETH": 1}, latest[latest["symbol"] != "BTC"], asset_kinds=KINDS, now=NOW)


def test_portfolio_payload_shape(latest):
    val = value_portfolio({"BTC": 1, "ETH": 10}, latest, asset_kinds=KINDS, now=NOW)
    body = json.loads(json.dumps(portfolio_payload(val)))
    assert body["portfolio_value_btc"] == pytest.approx(1.52)
    assert body["value_usd"] == pytest.approx(76000.0)
    assert body["holdings"] == {"BTC": pytest.approx(1.0), "ETH": pytest.approx(0.52)}
    assert body["as_of"] == "2024-01-08T12:00:00+00:00" and body["btc_usd"] == 50000.0
    eth = body["assets"][1]
    assert set(eth) == {"symbol", "quantity", "price_usd", "price_btc", "value_btc", "value_usd",
                        "value_sats", "weight", "price_ts", "source", "stale"}
    assert body["unpriced"] == []
    assert eth["value_sats"] == 52_000_000 and isinstance(eth["value_sats"], int)
    assert eth["price_ts"] == "2024-01-08T12:00:30+00:00" and eth["stale"] is False


@given(st.dictionaries(st.sampled_from(["BTC", "ETH", "SPY"]),
                       st.floats(min_value=1e-8, max_value=1e9), min_size=1))
def test_weights_sum_to_one(holdings):
    latest = latest_frame([("BTC", 50000.0, ts("2024-01-08"), "s", "close"),
                           ("ETH", 2500.0, ts("2024-01-08"), "s", "close"),
                           ("SPY", 500.0, ts("2024-01-05"), "s", "close")])
    val = value_portfolio(holdings, latest, asset_kinds=KINDS, now=ts("2024-01-08 01:00"))
    assert val.assets["weight"].sum() == pytest.approx(1.0, rel=1e-12)
    assert val.total_btc == pytest.approx(val.assets["value_btc"].sum(), rel=1e-12)
    assert val.total_usd == pytest.approx(val.assets["value_usd"].sum(), rel=1e-9)


# ---- daily history --------------------------------------------------------------------------

def constant_history(holdings, conv, *, start=None, end=None):
    """Constant holdings valued on each day of the converter's BTC range (value_quantities)."""
    dates = daily_dates(conv, start=start, end=end)
    return value_quantities(pd.DataFrame({s: float(q) for s, q in holdings.items()},
                                         index=dates, columns=list(holdings)), conv)


def test_history_hand_example():
    conv = BTCConverter(CLOSES, asset_kinds=KINDS, cache=ConversionCache())
    hist = constant_history({"BTC": 1, "ETH": 10, "SPY": 10, "SOL": 100}, conv)
    d = hist.daily
    fri = 1 + 10 * 2000 / 40000 + 10 * 470 / 40000                 # SOL has no price yet
    sat = 1 + 10 * 2520 / 42000 + 10 * 470 / 42000                 # SPY: Friday's close
    sun_without_sol = 1 + 10 * 2200 / 44000 + 10 * 470 / 44000
    sun = sun_without_sol + 100 * 100 / 44000                      # SOL's first day
    mon = 1 + 10 * 2250 / 45000 + 10 * 475 / 45000 + 100 * 90 / 45000
    assert d["value_btc"].tolist() == pytest.approx([fri, sat, sun, mon], rel=1e-12)
    assert d["excluded"].tolist() == ["SOL", "SOL", "", ""]
    assert d["complete"].tolist() == [False, False, True, True]
    # Chain-linked: SOL entering on Sunday is not a gain of the portfolio.
    assert np.isnan(d["return_btc"].iloc[0])
    assert d["return_btc"].iloc[1:].tolist() == pytest.approx(
        [sat / fri - 1, sun_without_sol / sat - 1, mon / sun - 1], rel=1e-12)
    assert d["value_usd"].iloc[3] == pytest.approx(mon * 45000)
    assert hist.status.loc[ts("2024-01-05"), "SOL"] == "no_price"


def test_history_payload_last_days_oldest_first():
    conv = BTCConverter(CLOSES, asset_kinds=KINDS, cache=None)
    hist = constant_history({"BTC": 2}, conv)
    body = history_payload(hist, 2)
    assert body == {"history": [
        {"date": "2024-01-07", "value_btc": 2.0, "return_btc": 0.0, "stale": []},
        {"date": "2024-01-08", "value_btc": 2.0, "return_btc": 0.0, "stale": []}]}
    # The first day has no previous day: its return is null, never NaN in JSON.
    assert history_payload(hist, 10)["history"][0]["return_btc"] is None


def test_history_keeps_matic_at_its_last_price_flagged_after_it_stopped_trading():
    closes = read_sample(SAMPLE).pivot(index="ts", columns="symbol", values="close")
    conv = BTCConverter(closes, asset_kinds=KINDS, cache=None)
    hist = constant_history({"BTC": 1, "MATIC": 1000}, conv,
                                   start=ts("2025-03-24"), end=ts("2025-03-27"))
    d = hist.daily
    btc = closes.loc["2025-03-24":"2025-03-27", "BTC"].to_numpy()
    # MATIC's last close (03-24) carries its value on, flagged stale once past the 1-day
    # limit, exactly as /api/portfolio values it: the chart shows no drop that is not a loss.
    assert d["value_btc"].tolist() == pytest.approx((1 + 1000 * 0.216415 / btc).tolist(),
                                                    rel=1e-12)
    assert d["stale"].tolist() == ["", "", "MATIC", "MATIC"]
    assert d["excluded"].tolist() == ["", "", "", ""] and d["complete"].all()
    assert history_payload(hist, 1)["history"][0]["stale"] == ["MATIC"]


def test_history_of_only_btc_is_flat_and_nothing_valued_is_nan():
    conv = BTCConverter(CLOSES, asset_kinds=KINDS, cache=None)
    assert constant_history({"BTC": 0.5}, conv).daily["return_btc"].iloc[1:].eq(0).all()
    only_sol = constant_history({"SOL": 1}, conv).daily["value_btc"]
    assert only_sol.isna().tolist() == [True, True, False, False]  # never a silent zero


# ---- more valuations ---------------------------------------------------------------------

def test_value_portfolio_of_no_holdings_is_zero_not_nan(latest):
    val = value_portfolio({}, latest, asset_kinds=KINDS, now=NOW)
    assert val.total_btc == 0.0 and val.btc_allocation == 0.0 and val.assets.empty
    assert list(val.assets.columns) == ["symbol", "quantity", "price_usd", "price_btc",
                                        "value_btc", "value_usd", "value_sats", "weight",
                                        "price_ts", "source", "stale"]
    assert json.loads(json.dumps(portfolio_payload(val)))["assets"] == []
