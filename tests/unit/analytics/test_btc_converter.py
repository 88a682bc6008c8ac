"""BTCConverter: hand-checked conversions, as-of edge cases of the sample, cache, properties."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.btc_converter import BTCConverter
from analytics.staleness import NoPriceError, StalenessLimits, StalePriceError
from data.store.seed import read_sample
from queries.price_cache import ConversionCache
from tests.support.sample import SAMPLE

KINDS = {"BTC": "crypto", "ETH": "crypto", "SOL": "crypto", "USDC": "crypto", "MATIC": "crypto",
         "SPY": "equity"}


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def sample() -> BTCConverter:
    frame = read_sample(SAMPLE)
    closes = frame.pivot(index="ts", columns="symbol", values="close")
    return BTCConverter(closes, asset_kinds=KINDS, cache=None)


@pytest.fixture
def small() -> BTCConverter:
    """Fri 2024-01-05 .. Mon 01-08; SPY has no weekend bars; SOL starts on Sunday."""
    closes = pd.DataFrame(
        {"BTC": [40000.0, 42000.0, 44000.0, 45000.0],
         "ETH": [2000.0, 2520.0, 2200.0, 2250.0],
         "SPY": [470.0, np.nan, np.nan, 475.0],
         "SOL": [np.nan, np.nan, 100.0, 90.0]},
        index=pd.date_range("2024-01-05", periods=4, freq="D", tz="UTC"))
    return BTCConverter(closes, asset_kinds=KINDS, cache=ConversionCache())


# ---- hand-checked scalar conversions --------------------------------------------------------

def test_to_btc_uses_the_close_of_the_day(small):
    # Saturday: 2 ETH × 2520 USD / 42000 USD per BTC = 0.12 BTC
    assert small.to_btc(2, "ETH", ts("2024-01-06")) == pytest.approx(0.12, rel=1e-12)


def test_to_btc_never_uses_a_later_price(small):
    # One second before Saturday's bar: Friday's prices, 2 × 2000 / 40000 = 0.1 BTC
    assert small.to_btc(2, "ETH", ts("2024-01-05 23:59:59")) == pytest.approx(0.1, rel=1e-12)


def test_from_btc_hand_example(small):
    # 0.5 BTC on Monday = 0.5 × 45000 / 2250 = 10 ETH
    assert small.from_btc(0.5, "ETH", ts("2024-01-08")) == pytest.approx(10.0, rel=1e-12)


def test_usd_pseudo_symbol(small):
    # 1 BTC on Sunday is 44000 USD; 88000 USD is 2 BTC
    assert small.from_btc(1, "USD", ts("2024-01-07")) == pytest.approx(44000.0)
    assert small.to_btc(88000, "USD", ts("2024-01-07")) == pytest.approx(2.0)


def test_stock_on_a_weekend_uses_fridays_close(small):
    # Sunday: SPY's last bar is Friday 470 USD; BTC's Sunday close is 44000: 10 × 470 / 44000
    assert small.to_btc(10, "SPY", ts("2024-01-07")) == pytest.approx(4700 / 44000, rel=1e-12)


def test_before_first_price_is_a_typed_error(small):
    with pytest.raises(NoPriceError) as info:
        small.to_btc(1, "SOL", ts("2024-01-06 23:00"))
    assert "SOL" in str(info.value) and "2024-01-06T23:00:00+00:00" in str(info.value)


def test_unknown_symbol_is_a_typed_error(small):
    with pytest.raises(NoPriceError):
        small.from_btc(1, "DOGE", ts("2024-01-08"))


def test_naive_timestamp_is_rejected(small):
    with pytest.raises(ValueError, match="timezone-aware"):
        small.to_btc(1, "ETH", pd.Timestamp("2024-01-08"))


def test_non_finite_amount_is_rejected(small):
    with pytest.raises(ValueError, match="finite"):
        small.to_btc(float("nan"), "ETH", ts("2024-01-08"))


def test_stale_btc_price_is_an_error_even_for_btc_itself(small):
    # BTC's newest close is Monday 00:00; 1 day + 1 s later it is past the crypto daily limit.
    with pytest.raises(StalePriceError) as info:
        small.to_btc(1, "BTC", ts("2024-01-09 00:00:01"))
    assert info.value.symbol == "BTC" and info.value.price_ts == ts("2024-01-08")
    assert info.value.limit == timedelta(days=1)


# ---- edge cases on the real sample ----------------------------------------------------------

def test_good_friday_weekend_uses_thursdays_close(sample):
    # 2024-03-29 (Good Friday) .. 03-31: SPY's as-of bar is Thursday 2024-03-28 (523.07000732).
    for day, btc_close in (("2024-03-30", 69645.3046875), ("2024-03-31", 71333.6484375)):
        assert sample.to_btc(1, "SPY", ts(day)) == pytest.approx(523.07000732 / btc_close,
                                                                rel=1e-12)
    # Monday has its own bar again: 522.15997314 / 69702.1484375
    assert sample.to_btc(1, "SPY", ts("2024-04-01")) == pytest.approx(
        522.15997314 / 69702.1484375, rel=1e-12)


def test_stock_gap_longer_than_equity_limit_is_stale():
    closes = pd.DataFrame({"BTC": [1.0] * 7, "SPY": [500.0] + [np.nan] * 6},
                          index=pd.date_range("2024-03-28", periods=7, freq="D", tz="UTC"))
    conv = BTCConverter(closes, asset_kinds=KINDS, cache=None)
    # Exactly 4 days old: still within the equity limit (a 4-day holiday weekend).
    assert conv.to_btc(1, "SPY", ts("2024-04-01")) == pytest.approx(500.0)
    with pytest.raises(StalePriceError):
        conv.to_btc(1, "SPY", ts("2024-04-01 00:00:01"))


def test_first_day_of_a_stock_in_the_sample(sample):
    with pytest.raises(NoPriceError):
        sample.to_btc(1, "SPY", ts("2021-01-03 23:59"))
    assert sample.to_btc(1, "SPY", ts("2021-01-04")) == pytest.approx(
        368.79000854 / 31971.9140625, rel=1e-12)


def test_matic_after_it_stopped_trading(sample):
    # Last bar 2025-03-24 (0.216415). One day later it is still within the crypto daily limit.
    assert sample.to_btc(1000, "MATIC", ts("2025-03-25")) == pytest.approx(
        1000 * 0.216415 / 87471.703125, rel=1e-12)
    with pytest.raises(StalePriceError):
        sample.to_btc(1000, "MATIC", ts("2025-03-26"))
    bulk = sample.to_btc_series(pd.Series(1000.0, index=pd.DatetimeIndex(
        [ts("2025-03-24"), ts("2025-03-26")])), "MATIC")
    assert list(bulk["status"]) == ["ok", "stale"]
    # Flagged, never a silent zero: the stale value is the last price's value.
    assert bulk["value_btc"].iloc[1] > 0
    assert bulk["price_ts"].iloc[1] == ts("2025-03-24")


def test_usdc_depeg_is_priced_at_market(sample):
    # 2023-03-11: USDC closed at 0.97149998 USD, BTC at 20632.41015625 USD.
    value = sample.to_btc(5000, "USDC", ts("2023-03-11"))
    assert value == pytest.approx(5000 * 0.97149998 / 20632.41015625, rel=1e-12)
    assert value < 5000 / 20632.41015625 * 0.98  # clearly not pegged at 1 USD


# ---- bulk forms -----------------------------------------------------------------------------

def test_to_btc_frame_flags_missing_prices(small):
    dates = pd.date_range("2024-01-05", periods=4, freq="D", tz="UTC")
    quantities = pd.DataFrame({"SPY": 10.0, "SOL": 100.0}, index=dates)
    values, status = small.to_btc_frame(quantities)
    assert list(status["SOL"]) == ["no_price", "no_price", "ok", "ok"]
    assert values["SOL"].isna().tolist() == [True, True, False, False]
    assert values["SOL"].iloc[3] == pytest.approx(100 * 90 / 45000)
    assert list(status["SPY"]) == ["ok"] * 4
    assert values["SPY"].iloc[1] == pytest.approx(10 * 470 / 42000)


def test_from_btc_series_hand_example(small):
    amounts = pd.Series([1.0, 1.0], index=pd.DatetimeIndex([ts("2024-01-05"), ts("2024-01-08")]))
    out = small.from_btc_series(amounts, "ETH")
    assert out["amount"].tolist() == pytest.approx([40000 / 2000, 45000 / 2250])


def test_quotes_extend_the_closes_and_go_stale_fast():
    closes = pd.DataFrame({"BTC": [40000.0], "ETH": [2000.0]},
                          index=pd.DatetimeIndex([ts("2024-01-08")]))
    latest = pd.DataFrame({"symbol": ["BTC", "ETH"], "price_usd": [50000.0, 2600.0],
                           "ts": [ts("2024-01-08 12:00")] * 2, "source": ["coingecko"] * 2,
                           "kind": ["quote"] * 2})
    conv = BTCConverter(closes, latest=latest, asset_kinds=KINDS, cache=None)
    assert conv.to_btc(1, "ETH", ts("2024-01-08 12:05")) == pytest.approx(2600 / 50000)
    assert conv.to_btc(1, "ETH", ts("2024-01-08 11:59")) == pytest.approx(2000 / 40000)
    # A quote is stale after crypto_quote (10 min), although a close would be fine for a day.
    with pytest.raises(StalePriceError):
        conv.to_btc(1, "ETH", ts("2024-01-08 12:11"))


def test_limits_from_settings(settings):
    limits = StalenessLimits.from_settings(settings.staleness)
    assert limits == StalenessLimits(timedelta(seconds=600), timedelta(days=1), timedelta(days=4))
    assert limits.limit("equity", "quote") == timedelta(days=4)


def test_rejects_non_positive_prices():
    closes = pd.DataFrame({"BTC": [0.0]}, index=pd.DatetimeIndex([ts("2024-01-08")]))
    with pytest.raises(ValueError, match="positive"):
        BTCConverter(closes, asset_kinds=KINDS)


# ---- cache ----------------------------------------------------------------------------------

def test_cache_reuses_lookups_for_equal_data(small, monkeypatch):
    calls = []
    original = BTCConverter._compute_asof

    def counting(self, symbol, index):
        calls.append(symbol)
        return original(self, symbol, index)

    monkeypatch.setattr(BTCConverter, "_compute_asof", counting)
    dates = pd.date_range("2024-01-05", periods=4, freq="D", tz="UTC")
    small.price_btc("ETH", dates)
    assert sorted(calls) == ["BTC", "ETH"]
    # A refresh reloads the same closes into a new frame: nothing is recomputed.
    closes = pd.DataFrame(
        {"BTC": [40000.0, 42000.0, 44000.0, 45000.0], "ETH": [2000.0, 2520.0, 2200.0, 2250.0],
         "SPY": [470.0, np.nan, np.nan, 475.0], "SOL": [np.nan, np.nan, 100.0, 90.0]},
        index=dates)
    again = BTCConverter(closes, asset_kinds=KINDS, cache=small.cache)
    out = again.price_btc("ETH", dates)
    assert len(calls) == 2 and small.cache.hits == 2
    assert out["price_btc"].tolist() == pytest.approx([0.05, 0.06, 0.05, 0.05])
    # A new close changes the fingerprint: that lookup is computed again.
    closes.loc[dates[-1], "ETH"] = 2700.0
    BTCConverter(closes, asset_kinds=KINDS, cache=small.cache).price_btc("ETH", dates)
    assert len(calls) == 4


def test_cache_is_bounded():
    cache = ConversionCache(maxsize=2)
    for key in "abc":
        cache.put(key, pd.DataFrame())
    assert cache.get("a") is None and cache.get("c") is not None


def test_cached_frames_are_not_shared(small):
    dates = pd.date_range("2024-01-05", periods=2, freq="D", tz="UTC")
    first = small.asof("ETH", dates)
    first["price_usd"] = -1.0
    assert small.asof("ETH", dates)["price_usd"].tolist() == [2000.0, 2520.0]


# ---- properties -----------------------------------------------------------------------------

prices = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False, allow_infinity=False)
amounts = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def _converter(btc: float, a: float, b: float) -> BTCConverter:
    closes = pd.DataFrame({"BTC": [btc], "AAA": [a], "BBB": [b]},
                          index=pd.DatetimeIndex([ts("2024-01-08")]))
    return BTCConverter(closes, asset_kinds={}, cache=None)


@given(btc=prices, a=prices, b=prices, x=amounts)
def test_from_btc_inverts_to_btc(btc, a, b, x):
    conv = _converter(btc, a, b)
    at = ts("2024-01-08 06:00")
    assert conv.from_btc(conv.to_btc(x, "AAA", at), "AAA", at) == pytest.approx(
        x, rel=1e-9, abs=1e-12)


@given(btc=prices, a=prices, b=prices, x=amounts)
def test_value_is_conserved_under_redenomination(btc, a, b, x):
    conv = _converter(btc, a, b)
    at = ts("2024-01-08 06:00")
    value_btc = conv.to_btc(x, "AAA", at)
    in_b = conv.from_btc(value_btc, "BBB", at)       # re-denominate AAA -> BBB through BTC
    in_usd = conv.from_btc(value_btc, "USD", at)
    assert conv.to_btc(in_b, "BBB", at) == pytest.approx(value_btc, rel=1e-9, abs=1e-15)
    assert in_usd == pytest.approx(x * a, rel=1e-9, abs=1e-9)
    assert in_b * b == pytest.approx(x * a, rel=1e-9, abs=1e-9)


def test_errors_are_distinct_value_errors():
    # The analytics convention (ValueError), but distinguishable from a broken precondition.
    assert issubclass(StalePriceError, ValueError) and issubclass(NoPriceError, ValueError)
    assert not issubclass(StalePriceError, NoPriceError)


@pytest.mark.parametrize("at", ["2024-01-04", "2024-01-06 12:00", "2024-01-08", "2024-01-20"])
def test_bulk_lookup_at_one_time_equals_the_per_symbol_one(small, at):
    symbols = ["SPY", "BTC", "SOL", "USD", "XXX", "ETH"]
    rows = small.asof_rows(symbols, ts(at))
    assert rows.symbols == symbols
    for i, symbol in enumerate(symbols):
        one = small.asof(symbol, ts(at)).iloc[0]
        assert rows.status[i] == one["status"], symbol
        assert rows.price_kind[i] == one["price_kind"] and rows.source[i] == one["source"]
        assert (rows.price_usd[i] == one["price_usd"]) or (
            np.isnan(rows.price_usd[i]) and np.isnan(one["price_usd"]))
        assert (rows.price_ts[i] == one["price_ts"]) or (
            pd.isna(rows.price_ts[i]) and pd.isna(one["price_ts"]))


def test_a_quote_at_the_time_of_a_close_wins_in_bulk_lookups(small):
    latest = pd.DataFrame({"symbol": ["ETH"], "price_usd": [2600.0], "ts": [ts("2024-01-08")],
                           "source": ["coingecko"], "kind": ["quote"]})
    conv = BTCConverter(pd.DataFrame({"BTC": [45000.0], "ETH": [2250.0]},
                                     index=[ts("2024-01-08")]),
                        asset_kinds=KINDS, latest=latest, cache=None)
    rows = conv.asof_rows(["ETH"], ts("2024-01-08"))
    assert (rows.price_usd[0], rows.price_kind[0], rows.source[0]) == (2600.0, "quote",
                                                                       "coingecko")


def test_prices_in_btc_divides_by_the_btc_price_of_the_same_set():
    from analytics.btc_converter import prices_in_btc

    assert prices_in_btc({"BTC": 40000.0, "ETH": 2000.0}) == {"BTC": 1.0, "ETH": 0.05}
    assert prices_in_btc({"ETH": 2000.0}) == {}
    with pytest.raises(ValueError):
        prices_in_btc({"BTC": 40000.0, "ETH": 0.0})
