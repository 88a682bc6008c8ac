"""CoinGecko parsing on recorded payloads: quotes, history granularity, error bodies."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from data.providers.adapters.base import validate_prices
from data.providers.adapters.coingecko import CoinGeckoAdapter, check_body
from errors import (
    AuthError,
    BadResponseError,
    NotFoundError,
    OutOfWindowError,
    RateLimitError,
)
from tests.support.recorded import load


def test_parse_quotes_reads_price_change_and_update_time():
    quotes = CoinGeckoAdapter._parse_quotes(load("coingecko", "simple_price_oas_example.json"),
                                            {"bitcoin": "BTC", "no-such-coin": "NOPE"})
    assert len(quotes) == 1  # the unknown id is simply absent
    q = quotes[0]
    assert (q.symbol, q.price_usd, q.source) == ("BTC", 76975.0, "coingecko")
    assert q.change_24h_pct == pytest.approx(-1.4093297098441402)
    assert q.ts == datetime.fromtimestamp(1779092258, tz=timezone.utc)


def test_parse_quotes_two_ids_int_and_float_values():
    payload = load("coingecko", "simple_price_multi_vs_2019_gogecko.json")
    ids = {k: k.upper() for k in payload}
    for entry in payload.values():
        entry["last_updated_at"] = 1546300800
    quotes = CoinGeckoAdapter._parse_quotes(payload, ids)
    assert {q.symbol for q in quotes} == set(ids.values())
    assert all(isinstance(q.price_usd, float) for q in quotes)


def test_parse_daily_history_midnight_point_closes_the_previous_date():
    frame = CoinGeckoAdapter._parse_history(
        load("coingecko", "coins_market_chart_daily_alephium_vs_btc_2023-12.json"), "ALPH", "1d")
    validate_prices(frame)
    # 6 points: midnights 2023-12-09..13 close 12-08..12-12; the "now" point (12-13 14:15)
    # is the running close of 12-13.
    assert list(frame["ts"].dt.strftime("%Y-%m-%d")) == [
        "2023-12-08", "2023-12-09", "2023-12-10", "2023-12-11", "2023-12-12", "2023-12-13"]
    assert (frame["ts"].dt.hour == 0).all()
    assert frame["close"].iloc[0] == pytest.approx(1.6446899669484214e-05)  # 12-09 00:00 point
    assert frame["close"].iloc[-1] == pytest.approx(1.895741967034403e-05)
    assert frame["volume"].iloc[-1] == pytest.approx(36.16062757872036)
    assert frame["open"].isna().all()


def test_parse_daily_history_from_hourly_points_keeps_last_price_of_each_date():
    payload = {"prices": [[1704150000000, 1.0],   # 2024-01-01 23:00
                          [1704153600000, 2.0],   # 2024-01-02 00:00 -> still 01-01's close
                          [1704157200000, 3.0]],  # 2024-01-02 01:00 -> 01-02
               "total_volumes": []}
    frame = CoinGeckoAdapter._parse_history(payload, "BTC", "1d")
    assert list(frame["ts"].astype(str)) == ["2024-01-01 00:00:00+00:00",
                                             "2024-01-02 00:00:00+00:00"]
    assert list(frame["close"]) == [2.0, 3.0]


def test_parse_hourly_history_floors_to_the_hour():
    frame = CoinGeckoAdapter._parse_history(
        load("coingecko", "coins_market_chart_range_oas_example.json"), "BTC", "1h")
    # 1779027899 s = 2026-05-17 14:24:59 UTC and +5 min: one hourly bar holding the later price.
    assert list(frame["ts"]) == [pd.Timestamp("2026-05-17 14:00", tz="UTC")]
    assert frame["close"].iloc[0] == pytest.approx(78052.87543398788)


def test_parse_history_empty_prices_is_an_empty_frame():
    frame = CoinGeckoAdapter._parse_history({"prices": [], "total_volumes": []}, "BTC", "1d")
    assert frame.empty and list(frame.columns)[0] == "ts"


@pytest.mark.parametrize(("payload", "error"), [
    (load("coingecko", "error_429_rate_limit.json"), RateLimitError),
    ({"status": {"error_code": 10002, "error_message": "API Key Missing"}}, AuthError),
    ({"status": {"error_code": 10012, "error_message": "exceeds the allowed time range"}},
     OutOfWindowError),
    # The real shape of the window error: the status object nested in "error".
    ({"error": {"status": {"timestamp": "2024-04-20T22:00:05.123+00:00", "error_code": 10012,
                           "error_message": "Your request exceeds the allowed time range."}}},
     OutOfWindowError),
    (load("coingecko", "error_404_coin_not_found.json"), NotFoundError),
])
def test_error_bodies_become_typed_errors(payload, error):
    with pytest.raises(error):
        check_body(payload, what="x")
    with pytest.raises(error):
        CoinGeckoAdapter._parse_history(payload, "BTC", "1d")


def test_history_without_prices_array_is_bad_response():
    with pytest.raises(BadResponseError):
        CoinGeckoAdapter._parse_history({"market_caps": []}, "BTC", "1d")


def test_demo_plan_serves_whole_days_inside_its_365_day_window():
    from datetime import date

    from settings import SourceSettings

    demo = CoinGeckoAdapter(SourceSettings(base_url="http://127.0.0.1:9", plan="demo"))
    pro = CoinGeckoAdapter(SourceSettings(base_url="http://127.0.0.1:9", plan="pro"),
                           api_key="k")
    assert demo.oldest_history_day("1d", date(2026, 8, 21)) == date(2025, 8, 22)
    assert pro.oldest_history_day("1d", date(2026, 8, 21)) is None
