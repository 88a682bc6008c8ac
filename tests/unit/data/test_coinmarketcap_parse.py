"""CoinMarketCap parsing on recorded payloads: v1/v2 quotes by id, status error codes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from data.providers.adapters.coinmarketcap import CoinMarketCapAdapter, check_status
from errors import AuthError, BadResponseError, RateLimitError
from tests.support.recorded import OHLCV, load


def test_parse_v2_quote_by_id():
    (q,) = CoinMarketCapAdapter._parse_quotes(
        load("coinmarketcap", "v2_quotes_latest_by_id_1_2022-06-16.json"), {"1": "BTC"})
    assert (q.symbol, q.source) == ("BTC", "coinmarketcap")
    assert q.price_usd == pytest.approx(21864.74930690019)
    assert q.change_24h_pct == pytest.approx(2.66543925)
    assert q.ts == datetime(2022, 6, 16, 7, 18, tzinfo=timezone.utc)


def test_parse_v1_quotes_many_ids_leaves_out_unknown():
    quotes = CoinMarketCapAdapter._parse_quotes(
        load("coinmarketcap", "v1_quotes_latest_by_id_2019-02-04_TRIMMED.json"),
        {"1": "BTC", "2": "LTC", "999999": "NOPE"})
    assert [q.symbol for q in quotes] == ["BTC", "LTC"]
    assert quotes[1].price_usd == pytest.approx(33.8041552743)


def test_parse_v2_by_symbol_array():
    (q,) = CoinMarketCapAdapter._parse_quotes(
        load("coinmarketcap", "v2_quotes_latest_by_symbol_BTC_2022-06-16.json"), {"BTC": "BTC"})
    assert q.price_usd > 0


@pytest.mark.parametrize(("name", "error"), [
    ("error_401_1001_api_key_invalid.json", AuthError),
    ("error_401_1002_api_key_missing.json", AuthError),
    ("error_429_1008_rate_limit_minute.json", RateLimitError),
])
def test_status_error_codes_are_typed(name, error):
    with pytest.raises(error):
        CoinMarketCapAdapter._parse_quotes(load("coinmarketcap", name), {"1": "BTC"})


def test_unknown_error_code_and_missing_status_are_bad_response():
    with pytest.raises(BadResponseError):
        check_status({"status": {"error_code": 400, "error_message": "Invalid value"}}, what="q")
    with pytest.raises(BadResponseError):
        check_status({"data": {}}, what="q")


def test_parse_ohlcv_history_keys_by_time_open_date():
    frame = CoinMarketCapAdapter._parse_history(OHLCV, "BTC", "1", "1d")
    assert list(frame["ts"].astype(str)) == ["2019-01-02 00:00:00+00:00",
                                             "2019-01-03 00:00:00+00:00"]
    assert list(frame["close"]) == [3943.41, 3836.74]
    assert frame["high"].iloc[0] == 3947.98


def test_history_is_offered_on_the_pro_plan_only():
    from settings import SourceSettings

    free = CoinMarketCapAdapter(SourceSettings(base_url="http://127.0.0.1:1"))
    pro = CoinMarketCapAdapter(SourceSettings(base_url="http://127.0.0.1:1", plan="pro"))
    assert not free.supports("history", "1d") and pro.supports("history", "1d")
    assert not pro.supports("history", "1m")
