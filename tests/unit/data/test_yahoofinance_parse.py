"""Yahoo parsing on recorded payloads: chart bars (nulls, empty range, exchange dates), quotes."""

from __future__ import annotations

import copy

import pytest

from data.providers.adapters.base import validate_prices
from data.providers.adapters.yahoofinance import YahooFinanceAdapter
from errors import AuthError, BadResponseError, NotFoundError
from tests.support.recorded import load


def test_parse_crypto_daily_chart_matches_recorded_values():
    frame = YahooFinanceAdapter._parse_history(
        load("yahoo", "chart_BTC-USD_1d_2020-01-01_2020-01-03.json"), "BTC", "1d")
    validate_prices(frame)
    assert list(frame["ts"].dt.strftime("%Y-%m-%d %H:%M")) == [
        "2020-01-01 00:00", "2020-01-02 00:00", "2020-01-03 00:00"]
    assert list(frame["close"]) == [7200.17431640625, 6985.47021484375, 7344.88427734375]
    assert frame["volume"].iloc[0] == 18565664997.0


def test_parse_equity_daily_bar_keyed_by_trading_date_not_open_time():
    frame = YahooFinanceAdapter._parse_history(
        load("yahoo", "chart_QQQ_1d_2020-01-01_2020-01-03.json"), "QQQ", "1d")
    # timestamp 1577975400 = 2020-01-02 14:30 UTC (09:30 New York): keyed 2020-01-02 00:00 UTC
    assert str(frame["ts"].iloc[0]) == "2020-01-02 00:00:00+00:00"
    assert frame["close"].iloc[0] == 216.16000366210938  # close, not adjclose


def test_nulls_inside_arrays_drop_the_bar():
    payload = copy.deepcopy(load("yahoo", "chart_BTC-USD_1d_2020-01-01_2020-01-03.json"))
    quote = payload["chart"]["result"][0]["indicators"]["quote"][0]
    quote["close"][1] = None
    quote["open"][2] = None
    frame = YahooFinanceAdapter._parse_history(payload, "BTC", "1d")
    assert list(frame["ts"].dt.day) == [1, 3]
    assert frame["open"].isna().tolist() == [False, True]


def test_empty_range_without_timestamps_is_empty_frame():
    frame = YahooFinanceAdapter._parse_history(
        load("yahoo", "chart_LUCYW_empty_range_null_currency.json"), "LUCYW", "1d")
    assert frame.empty


def test_chart_error_not_found():
    with pytest.raises(NotFoundError):
        YahooFinanceAdapter._parse_history(load("yahoo", "chart_error_not_found_404.json"),
                                           "X", "1d")


def test_parse_quotes_many_tickers():
    payload = load("yahoo", "quote_v7_AAPL.json")
    payload["quoteResponse"]["result"] += load("yahoo", "quote_v7_BTC-USD.json")[
        "quoteResponse"]["result"]
    quotes = YahooFinanceAdapter._parse_quotes(payload, {"AAPL": "AAPL", "BTC-USD": "BTC",
                                                         "NOPE": "NOPE"})
    assert [q.symbol for q in quotes] == ["AAPL", "BTC"]
    assert quotes[1].price_usd == 84613.75


def test_invalid_crumb_body_is_auth_error():
    with pytest.raises(AuthError):
        YahooFinanceAdapter._parse_quotes(
            load("yahoo", "quote_v7_error_invalid_crumb_401.json"), {})


def test_mismatched_arrays_are_bad_response():
    payload = copy.deepcopy(load("yahoo", "chart_BTC-USD_1d_2020-01-01_2020-01-03.json"))
    payload["chart"]["result"][0]["indicators"]["quote"][0]["close"].pop()
    with pytest.raises(BadResponseError):
        YahooFinanceAdapter._parse_history(payload, "BTC", "1d")
