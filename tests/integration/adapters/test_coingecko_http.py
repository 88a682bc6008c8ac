"""CoinGecko adapter against a local server serving recorded payloads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from werkzeug import Response

from data.providers.adapters.coingecko import CoinGeckoAdapter
from data.providers.registry import Registry
from data.providers.resilience import RetryPolicy
from errors import BadResponseError, EmptyDataError, NotFoundError, RateLimitError
from tests.support.adapters import calls, source
from tests.support.recorded import load, raw

PRICE = "/api/v3/simple/price"
IDS = {"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana"}


def adapter(httpserver, **kw) -> CoinGeckoAdapter:
    return CoinGeckoAdapter(source(httpserver, **kw.pop("src", {})), ids=IDS, **kw)


def test_quotes_one_call_for_many_ids_key_in_header_not_url(httpserver):
    payload = {"bitcoin": {"usd": 60000.5, "usd_24h_change": 1.5, "last_updated_at": 1723550000},
               "ethereum": {"usd": 2600, "usd_24h_change": -2.0, "last_updated_at": 1723550001}}
    httpserver.expect_request(PRICE, query_string={
        "ids": "bitcoin,ethereum,solana", "vs_currencies": "usd", "include_24hr_change": "true",
        "include_last_updated_at": "true"}, headers={"x-cg-demo-api-key": "demo-KEY"}
    ).respond_with_json(payload)
    quotes = adapter(httpserver, api_key="demo-KEY").fetch_quotes(["BTC", "ETH", "SOL"])
    assert [(q.symbol, q.price_usd) for q in quotes] == [("BTC", 60000.5), ("ETH", 2600.0)]
    assert calls(httpserver, PRICE) == 1
    request = httpserver.log[0][0]
    assert "demo-KEY" not in request.url


def test_pro_plan_sends_pro_header(httpserver):
    httpserver.expect_request(PRICE, headers={"x-cg-pro-api-key": "pro-KEY"}).respond_with_json(
        load("coingecko", "simple_price_oas_example.json"))
    (q,) = adapter(httpserver, api_key="pro-KEY", src={"plan": "pro"}).fetch_quotes(["BTC"])
    assert q.price_usd == 76975.0


def test_history_range_params_and_daily_bars(httpserver):
    start = datetime(2023, 12, 9, tzinfo=timezone.utc)
    end = datetime(2023, 12, 13, 23, 59, 59, tzinfo=timezone.utc)
    httpserver.expect_request("/api/v3/coins/alephium/market_chart/range", query_string={
        "vs_currency": "usd", "from": "1702080000", "to": "1702512000"}  # 12-09 .. 12-14 00:00
    ).respond_with_data(raw("coingecko",
                                      "coins_market_chart_daily_alephium_vs_btc_2023-12.json"),
                        content_type="application/json")
    cg = CoinGeckoAdapter(source(httpserver), ids={"ALPH": "alephium"})
    frame = cg.fetch_history("ALPH", start, end, "1d")
    # 12-08 (closed by the 12-09 midnight point) is outside the window
    assert list(frame["ts"].dt.day) == [9, 10, 11, 12, 13]


def test_history_outside_range_is_empty(httpserver):
    httpserver.expect_request("/api/v3/coins/bitcoin/market_chart/range").respond_with_json(
        {"prices": [], "market_caps": [], "total_volumes": []})
    with pytest.raises(EmptyDataError, match="^coingecko: no 1d bars for BTC 2020-01-01..2020-01-02"):
        adapter(httpserver).fetch_history("BTC", datetime(2020, 1, 1, tzinfo=timezone.utc),
                                          datetime(2020, 1, 2, tzinfo=timezone.utc))


def test_unknown_coin_404(httpserver):
    httpserver.expect_request("/api/v3/coins/nope/market_chart/range").respond_with_data(
        raw("coingecko", "error_404_coin_not_found.json"), status=404,
        content_type="application/json")
    with pytest.raises(NotFoundError, match="Could not find coin"):
        CoinGeckoAdapter(source(httpserver)).fetch_history(
            "nope", datetime(2020, 1, 1, tzinfo=timezone.utc),
            datetime(2020, 1, 2, tzinfo=timezone.utc))


def test_truncated_json_is_bad_response(httpserver):
    httpserver.expect_request(PRICE).respond_with_data('{"bitcoin": {"usd": 6',
                                                       content_type="application/json")
    with pytest.raises(BadResponseError):
        adapter(httpserver).fetch_quotes(["BTC"])


def test_rate_limit_body_in_http_200(httpserver):
    httpserver.expect_request(PRICE).respond_with_data(
        raw("coingecko", "error_429_rate_limit.json"), content_type="application/json")
    with pytest.raises(RateLimitError):
        adapter(httpserver).fetch_quotes(["BTC"])


def test_429_with_retry_after_then_success_through_registry(httpserver):
    httpserver.expect_ordered_request(PRICE).respond_with_response(Response(
        raw("coingecko", "error_429_rate_limit.json"), status=429,
        headers={"Retry-After": "119"}, content_type="application/json"))
    httpserver.expect_ordered_request(PRICE).respond_with_json(
        load("coingecko", "simple_price_oas_example.json"))
    slept: list[float] = []
    registry = Registry(adapters={"coingecko": adapter(httpserver)}, chains={"BTC": ["coingecko"]},
                        policy=RetryPolicy(attempts=3, max_seconds=300), sleep=slept.append)
    result = registry.fetch_quotes(["BTC"], now=datetime(2026, 5, 18, 9, tzinfo=timezone.utc))
    assert result["BTC"].quote.price_usd == 76975.0
    assert slept == [119.0]  # Retry-After honoured exactly
    assert calls(httpserver, PRICE) == 2


def test_circuit_breaker_stops_calling_a_failing_server_then_recovers(httpserver):
    healthy = {"ok": False}

    def handler(_request):
        if healthy["ok"]:
            return Response(raw("coingecko", "simple_price_oas_example.json"),
                            content_type="application/json")
        return Response("maintenance", status=503)

    httpserver.expect_request(PRICE).respond_with_handler(handler)
    clock = {"t": 0.0}
    registry = Registry(adapters={"coingecko": adapter(httpserver)}, chains={"BTC": ["coingecko"]},
                        policy=RetryPolicy(attempts=2, max_seconds=60), sleep=lambda s: None,
                        breaker_failures=2, breaker_reset_seconds=120, clock=lambda: clock["t"])
    now = datetime(2026, 5, 18, 9, tzinfo=timezone.utc)
    for _ in range(4):
        assert registry.fetch_quotes(["BTC"], now=now)["BTC"].quote is None
    assert calls(httpserver, PRICE) == 4  # 2 failed calls x 2 attempts, then the circuit is open
    assert "circuit open" in registry.fetch_quotes(["BTC"], now=now)["BTC"].error
    clock["t"] = 121.0
    healthy["ok"] = True
    assert registry.fetch_quotes(["BTC"], now=now)["BTC"].quote.price_usd == 76975.0
    assert calls(httpserver, PRICE) == 5 and registry.breakers["coingecko"].state == "closed"
