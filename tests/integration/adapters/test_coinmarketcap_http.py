"""CoinMarketCap adapter against a local server serving recorded payloads."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
from werkzeug import Response

from data.providers.adapters.coinmarketcap import QUOTES_PATH, CoinMarketCapAdapter
from data.providers.registry import Registry
from data.providers.resilience import RetryPolicy
from errors import AuthError, RateLimitError
from tests.support.adapters import calls, source
from tests.support.recorded import load, raw

NOW = datetime(2022, 6, 16, 8, tzinfo=timezone.utc)


def two_coin_payload():
    payload = load("coinmarketcap", "v2_quotes_latest_by_id_1_2022-06-16.json")
    eth = copy.deepcopy(payload["data"]["1"])
    eth.update(id=1027, symbol="ETH")
    eth["quote"]["USD"]["price"] = 1100.25
    payload["data"]["1027"] = eth
    return payload


def adapter(httpserver, key="cmc-KEY"):
    return CoinMarketCapAdapter(source(httpserver), api_key=key, ids={"BTC": "1", "ETH": "1027"})


def test_quotes_one_call_for_many_ids(httpserver):
    httpserver.expect_request(QUOTES_PATH, query_string={
        "id": "1,1027", "convert": "USD", "skip_invalid": "true"}
    ).respond_with_json(two_coin_payload())
    quotes = adapter(httpserver).fetch_quotes(["BTC", "ETH"])
    assert [(q.symbol, q.price_usd) for q in quotes] == [("BTC", 21864.74930690019),
                                                         ("ETH", 1100.25)]
    assert calls(httpserver, QUOTES_PATH) == 1
    assert "cmc-KEY" not in httpserver.log[0][0].url


def test_quotes_split_into_calls_of_at_most_100_ids(httpserver):
    # 150 coins -> 2 requests (100 + 50 ids), every id asked for exactly once, in order.
    template = load("coinmarketcap", "v2_quotes_latest_by_id_1_2022-06-16.json")["data"]["1"]

    def answer(request):
        data = {}
        for vid in request.args["id"].split(","):
            coin = copy.deepcopy(template)
            coin.update(id=int(vid), symbol=f"C{vid}")
            coin["quote"]["USD"]["price"] = float(vid)
            data[vid] = coin
        return Response(json.dumps({"status": {"error_code": 0}, "data": data}),
                        content_type="application/json")

    httpserver.expect_request(QUOTES_PATH).respond_with_handler(answer)
    symbols = [f"C{i}" for i in range(1, 151)]
    cmc = CoinMarketCapAdapter(source(httpserver), api_key="cmc-KEY",
                               ids={s: s[1:] for s in symbols})
    quotes = cmc.fetch_quotes(symbols)
    sent = [request.args["id"].split(",") for request, _ in httpserver.log]
    assert [len(ids) for ids in sent] == [100, 50]
    assert sum(sent, []) == [str(i) for i in range(1, 151)]
    assert [(q.symbol, q.price_usd) for q in quotes] == [(s, float(s[1:])) for s in symbols]


def test_key_goes_in_the_documented_header(httpserver):
    # werkzeug's test server drops header names with underscores, so check the request spec.
    url, params, headers = adapter(httpserver)._quotes_request(["1", "1027"])
    assert headers["X-CMC_PRO_API_KEY"] == "cmc-KEY"
    assert url.endswith("/v2/cryptocurrency/quotes/latest") and "cmc-KEY" not in str(params)


def test_invalid_key_401_is_auth_error_without_key_in_message(httpserver):
    httpserver.expect_request(QUOTES_PATH).respond_with_data(
        raw("coinmarketcap", "error_401_1001_api_key_invalid.json"), status=401,
        content_type="application/json")
    with pytest.raises(AuthError, match="This API Key is invalid") as info:
        adapter(httpserver).fetch_quotes(["BTC"])
    assert "cmc-KEY" not in str(info.value)


def test_rate_limit_1008_in_body(httpserver):
    httpserver.expect_request(QUOTES_PATH).respond_with_data(
        raw("coinmarketcap", "error_429_1008_rate_limit_minute.json"), status=200,
        content_type="application/json")
    with pytest.raises(RateLimitError):
        adapter(httpserver).fetch_quotes(["BTC"])


def test_5xx_then_success_through_registry(httpserver):
    httpserver.expect_ordered_request(QUOTES_PATH).respond_with_data("upstream down", status=502)
    httpserver.expect_ordered_request(QUOTES_PATH).respond_with_data("oops", status=503)
    httpserver.expect_ordered_request(QUOTES_PATH).respond_with_json(two_coin_payload())
    slept: list[float] = []
    registry = Registry(adapters={"coinmarketcap": adapter(httpserver)},
                        chains={"BTC": ["coinmarketcap"], "ETH": ["coinmarketcap"]},
                        policy=RetryPolicy(attempts=4, max_seconds=60, initial_backoff=1,
                                           max_backoff=8), sleep=slept.append)
    results = registry.fetch_quotes(["BTC", "ETH"], now=NOW)
    assert results["ETH"].quote.price_usd == 1100.25
    assert calls(httpserver, QUOTES_PATH) == 3
    assert len(slept) == 2 and all(0 <= s <= 8 for s in slept)  # jittered backoff, bounded


def test_unknown_id_left_out(httpserver):
    httpserver.expect_request(QUOTES_PATH).respond_with_json(
        load("coinmarketcap", "v2_quotes_latest_by_id_1_2022-06-16.json"))
    cmc = CoinMarketCapAdapter(source(httpserver), api_key="k", ids={"BTC": "1", "NOPE": "999999"})
    assert [q.symbol for q in cmc.fetch_quotes(["BTC", "NOPE"])] == ["BTC"]


def test_pro_plan_history_request(httpserver):
    from tests.support.recorded import OHLCV

    httpserver.expect_request("/v2/cryptocurrency/ohlcv/historical", query_string={
        "id": "1", "time_period": "daily", "interval": "daily", "convert": "USD",
        "time_start": "2019-01-02T00:00:00+00:00", "time_end": "2019-01-03T23:59:59+00:00"}
    ).respond_with_json(OHLCV)
    cmc = CoinMarketCapAdapter(source(httpserver, plan="pro"), api_key="k", ids={"BTC": "1"})
    frame = cmc.fetch_history("BTC", datetime(2019, 1, 2, tzinfo=timezone.utc),
                              datetime(2019, 1, 3, 23, 59, 59, tzinfo=timezone.utc))
    assert list(frame["close"]) == [3943.41, 3836.74]
