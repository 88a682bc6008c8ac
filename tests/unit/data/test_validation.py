"""Bad provider data is rejected before storage, with a reason per row."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd

from data.ingest.validation import clean_prices, clean_quotes
from data.models import Quote
from data.providers.adapters.base import make_price_frame
from tests.support.sample import NOW

DAYS = pd.date_range("2025-08-08", periods=5, freq="D", tz="UTC")


def frame(close, open_=None, high=None, low=None, volume=None, ts=DAYS):
    return make_price_frame(ts[:len(close)], symbol="BTC", source="test", close=close,
                            open=open_, high=high, low=low, volume=volume)


def test_good_rows_pass_untouched():
    f = frame([100.0, 101.0, 99.0], open_=[99, 100, 101], high=[101, 102, 101.5],
              low=[98, 99.5, 98.0], volume=[1, 2, 3])
    good, bad = clean_prices(f, now=NOW)
    assert bad == [] and good["close"].tolist() == [100.0, 101.0, 99.0]


def test_non_positive_and_infinite_close_rejected():
    good, bad = clean_prices(frame([100.0, 0.0, -5.0, math.inf, 102.0]), now=NOW)
    assert good["close"].tolist() == [100.0, 102.0]
    assert [str(r.ts.date()) for r in bad] == ["2025-08-09", "2025-08-10", "2025-08-11"]
    assert all("positive finite" in r.reason for r in bad)


def test_future_timestamp_rejected():
    ts = pd.DatetimeIndex(["2025-08-13", "2025-08-14"], tz="UTC")
    good, bad = clean_prices(frame([100.0, 101.0], ts=ts), now=NOW)
    assert len(good) == 1 and "future" in bad[0].reason


def test_inconsistent_ohlc_rejected():
    # high below close, then low above open
    f = frame([100.0, 100.0, 100.0], open_=[99, 99, 99], high=[99.5, 101, 101],
              low=[98, 99.5, 98], volume=[1, 1, 1])
    good, bad = clean_prices(f, now=NOW)
    assert len(good) == 1 and str(good["ts"].iloc[0].date()) == "2025-08-10"
    assert "high 99.5" in bad[0].reason and "low 99.5" in bad[1].reason


def test_jump_beyond_factor_rejected_against_previous_and_stored_close():
    good, bad = clean_prices(frame([100.0, 1000.0, 104.0]), now=NOW, max_jump_factor=5,
                             last_close=98.0)
    assert good["close"].tolist() == [100.0, 104.0]  # 1000 is x10 of 100; 104 compares to 100
    assert "jumps x10" in bad[0].reason
    good, bad = clean_prices(frame([10.0, 11.0]), now=NOW, max_jump_factor=5, last_close=98.0)
    assert good["close"].tolist() == [] and len(bad) == 2  # x0.1 vs the stored close, then 11 vs 98


def test_negative_volume_rejected():
    good, bad = clean_prices(frame([100.0, 101.0], volume=[5, -1]), now=NOW)
    assert len(good) == 1 and "volume" in bad[0].reason


def test_quotes_validation():
    good, bad = clean_quotes([Quote("BTC", 60000.0, NOW, "x"), Quote("ETH", float("nan"), NOW, "x"),
                              Quote("SOL", 150.0, datetime(2025, 8, 14, tzinfo=timezone.utc), "x")],
                             now=NOW)
    assert [q.symbol for q in good] == ["BTC"] and [r.symbol for r in bad] == ["ETH", "SOL"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

prices = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(min_value=1, max_value=1e6))


@settings(max_examples=60, deadline=None)
@given(st.lists(prices, min_size=1, max_size=5), st.floats(min_value=1.5, max_value=20))
def test_accepted_rows_are_always_sane(closes, factor):
    f = make_price_frame(DAYS[:len(closes)], symbol="X", source="t", close=closes)
    good, bad = clean_prices(f, now=NOW, max_jump_factor=factor)
    assert len(good) + len(bad) == len(f)
    assert (good["close"] > 0).all() and good["close"].map(math.isfinite).all()
    # The same division the validator does (pct_change() + 1 rounds differently at the limit).
    ratios = (good["close"] / good["close"].shift()).dropna()
    assert ((ratios <= factor) & (ratios >= 1 / factor)).all()
