"""Yahoo adapter (yfinance's HTTP layer) against a local server: every request, crumb included."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from werkzeug import Response

from data.providers.adapters.yahoofinance import HostRewritingSession, YahooFinanceAdapter
from data.providers.registry import Registry
from data.providers.resilience import RetryPolicy
from errors import AuthError, EmptyDataError, NotFoundError, TransientError
from tests.support.adapters import calls, source
from tests.support.recorded import load, raw

CRUMB = "Xy7crumbZ"
IDS = {"BTC": "BTC-USD", "AAPL": "AAPL", "QQQ": "QQQ"}
START = datetime(2020, 1, 1, tzinfo=timezone.utc)
END = datetime(2020, 1, 3, 23, 59, 59, tzinfo=timezone.utc)


@pytest.fixture
def yahoo(httpserver):
    """Cookie (fc.yahoo.com -> '/') and crumb endpoints as Yahoo serves them."""
    httpserver.expect_request("/").respond_with_response(Response(
        "", status=404, headers={"Set-Cookie": "A3=d=cookie; Path=/; HttpOnly"}))
    httpserver.expect_request("/v1/test/getcrumb").respond_with_data(CRUMB)
    return httpserver


def adapter(httpserver) -> YahooFinanceAdapter:
    return YahooFinanceAdapter(source(httpserver, timeout=2), ids=IDS)


def chart(name: str) -> bytes:
    return raw("yahoo", name)


def test_session_rewrites_every_yahoo_host_but_keeps_yahoo_base():
    local = HostRewritingSession("http://127.0.0.1:9")
    real = HostRewritingSession("https://query2.finance.yahoo.com")
    assert local.rewrite and not real.rewrite


def test_quotes_one_call_for_many_tickers_with_crumb_and_cookie(yahoo):
    payload = load("yahoo", "quote_v7_AAPL.json")
    payload["quoteResponse"]["result"] += load("yahoo", "quote_v7_BTC-USD.json")[
        "quoteResponse"]["result"]
    yahoo.expect_request("/v7/finance/quote", query_string={
        "symbols": "BTC-USD,AAPL,QQQ", "crumb": CRUMB}).respond_with_json(payload)
    quotes = adapter(yahoo).fetch_quotes(["BTC", "AAPL", "QQQ"])
    assert sorted(q.symbol for q in quotes) == ["AAPL", "BTC"]
    assert calls(yahoo, "/v7/finance/quote") == 1
    # cookie and crumb requests of yfinance reached the local server too
    assert calls(yahoo, "/") == 1 and calls(yahoo, "/v1/test/getcrumb") == 1
    quote_request = [r for r, _ in yahoo.log if r.path == "/v7/finance/quote"][0]
    assert "A3" in quote_request.cookies


def test_history_period_params_and_values(yahoo):
    yahoo.expect_request("/v8/finance/chart/BTC-USD", query_string={
        "period1": "1577836800", "period2": "1578096000", "interval": "1d",
        "includePrePost": "false", "events": "div,splits", "crumb": CRUMB}
    ).respond_with_data(chart("chart_BTC-USD_1d_2020-01-01_2020-01-03.json"),
                        content_type="application/json")
    frame = adapter(yahoo).fetch_history("BTC", START, END, "1d")
    assert list(frame["close"]) == [7200.17431640625, 6985.47021484375, 7344.88427734375]


def test_nulls_in_arrays_are_dropped(yahoo):
    body = json.loads(chart("chart_BTC-USD_1d_2020-01-01_2020-01-03.json"))
    body["chart"]["result"][0]["indicators"]["quote"][0]["close"][0] = None
    yahoo.expect_request("/v8/finance/chart/BTC-USD").respond_with_json(body)
    frame = adapter(yahoo).fetch_history("BTC", START, END, "1d")
    assert list(frame["ts"].dt.day) == [2, 3]


def test_unknown_symbol_404_body(yahoo):
    yahoo.expect_request("/v8/finance/chart/NOPE").respond_with_data(
        chart("chart_error_not_found_404.json"), status=404, content_type="application/json")
    with pytest.raises(NotFoundError, match="No data found"):
        adapter(yahoo).fetch_history("NOPE", START, END, "1d")


def test_empty_range(yahoo):
    yahoo.expect_request("/v8/finance/chart/LUCYW").respond_with_data(
        chart("chart_LUCYW_empty_range_null_currency.json"), content_type="application/json")
    with pytest.raises(EmptyDataError, match=r"^yahoo: no 1d bars for LUCYW \d{4}-"):
        adapter(yahoo).fetch_history("LUCYW", START, END, "1d")


def test_invalid_crumb_401_is_auth_error(yahoo):
    yahoo.expect_request("/v7/finance/quote").respond_with_data(
        raw("yahoo", "quote_v7_error_invalid_crumb_401.json"), status=401,
        content_type="application/json")
    with pytest.raises(AuthError, match="Invalid Crumb") as info:
        adapter(yahoo).fetch_quotes(["AAPL"])
    assert CRUMB not in str(info.value)


def test_5xx_then_success_through_registry(yahoo):
    state = {"n": 0}

    def flaky(_request):
        state["n"] += 1
        if state["n"] <= 2:  # yfinance itself re-sends once after a >= 400 status
            return Response("bad gateway", status=502)
        return Response(chart("chart_QQQ_1d_2020-01-01_2020-01-03.json"),
                        content_type="application/json")

    yahoo.expect_request("/v8/finance/chart/QQQ").respond_with_handler(flaky)
    slept: list[float] = []
    registry = Registry(adapters={"yahoo": adapter(yahoo)}, chains={"QQQ": ["yahoo"]},
                        policy=RetryPolicy(attempts=3, max_seconds=60), sleep=slept.append)
    result = registry.fetch_history("QQQ", START, END, "1d", now=END)
    assert result.frame["close"].iloc[0] == 216.16000366210938
    assert calls(yahoo, "/v8/finance/chart/QQQ") == 3 and len(slept) == 1


def test_timeout_is_transient_and_named(yahoo):
    import threading
    import time

    done = threading.Event()

    def slow(_request):
        time.sleep(0.6)
        done.set()
        return Response("{}", content_type="application/json")

    yahoo.expect_request("/v8/finance/chart/QQQ").respond_with_handler(slow)
    yh = YahooFinanceAdapter(source(yahoo, timeout=0.2), ids=IDS)
    with pytest.raises(TransientError, match="yahoo: timed out after 0.2s"):
        yh.fetch_history("QQQ", START, END, "1d")
    assert done.wait(5)
