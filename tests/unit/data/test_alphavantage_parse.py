"""Alpha Vantage parsing on recorded payloads: quote, daily series, HTTP-200 error bodies."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from data.providers.adapters.alphavantage import AlphaVantageAdapter, check_body
from data.providers.adapters.base import validate_prices
from errors import AuthError, BadResponseError, NotFoundError, RateLimitError
from tests.support.recorded import load


def test_parse_global_quote():
    q = AlphaVantageAdapter._parse_quote(load("alphavantage", "global_quote_MSFT_2018-10-05.json"),
                                         "MSFT")
    assert (q.symbol, q.price_usd, q.change_24h_pct) == ("MSFT", 112.13, -0.5852)
    assert q.ts == datetime(2018, 10, 5, tzinfo=timezone.utc)


def test_empty_global_quote_is_not_found():
    with pytest.raises(NotFoundError):
        AlphaVantageAdapter._parse_quote({"Global Quote": {}}, "NOPE")


def test_parse_daily_series_sorted_utc_dates():
    frame = AlphaVantageAdapter._parse_history(
        load("alphavantage", "time_series_daily_AAPL_compact_2020-09-04.json"), "AAPL", "1d")
    validate_prices(frame)
    assert list(frame["ts"].dt.strftime("%Y-%m-%d")) == [
        "2020-08-31", "2020-09-01", "2020-09-02", "2020-09-03", "2020-09-04"]
    first = frame.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (
        127.58, 131.0, 126.0, 129.04, 223505733.0)


def test_parse_daily_adjusted_variant_reads_volume_field_6():
    frame = AlphaVantageAdapter._parse_history(
        load("alphavantage", "time_series_daily_adjusted_IBM_2024-06-07_TRIMMED.json"), "IBM", "1d")
    last = frame.iloc[-1]
    assert (str(last["ts"].date()), last["close"], last["high"], last["volume"]) == (
        "2024-06-07", 170.01, 171.305, 3475495.0)


def test_parse_intraday_converts_eastern_to_utc():
    payload = {"Meta Data": {"6. Time Zone": "US/Eastern"},
               "Time Series (60min)": {"2024-06-07 10:00:00": {
                   "1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5",
                   "5. volume": "10"}}}
    frame = AlphaVantageAdapter._parse_history(payload, "IBM", "1h")
    assert str(frame["ts"].iloc[0]) == "2024-06-07 14:00:00+00:00"  # EDT = UTC-4


@pytest.mark.parametrize(("name", "error", "daily"), [
    ("rate_limit_note_5_per_minute_2018-2023.json", RateLimitError, False),
    ("rate_limit_information_spread_out_2025.json", RateLimitError, False),
    ("rate_limit_information_25_per_day_2024.json", RateLimitError, True),
    ("error_message_invalid_api_call.json", BadResponseError, False),
])
def test_http_200_error_bodies_are_typed(name, error, daily):
    with pytest.raises(error) as info:
        AlphaVantageAdapter._parse_history(load("alphavantage", name), "AAPL", "1d")
    if error is RateLimitError:
        assert (info.value.retry_after == 86400) is daily


def test_missing_key_message_is_auth_error():
    with pytest.raises(AuthError):
        check_body({"Error Message": "the parameter apikey is invalid or missing."}, what="q")


def test_free_plan_daily_history_window_is_the_compact_100_trading_days():
    from datetime import date

    from data.providers.adapters.alphavantage import AlphaVantageAdapter
    from settings import SourceSettings

    free = AlphaVantageAdapter(SourceSettings(base_url="http://127.0.0.1:9"), api_key="k")
    pro = AlphaVantageAdapter(SourceSettings(base_url="http://127.0.0.1:9", plan="pro"),
                              api_key="k")
    assert free.oldest_history_day("1d", date(2026, 8, 21)) == date(2026, 4, 3)
    assert pro.oldest_history_day("1d", date(2026, 8, 21)) is None
