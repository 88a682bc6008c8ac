"""Alpha Vantage adapter against a local server: one symbol per call, HTTP-200 error bodies."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from pyrate_limiter import Duration, Rate
from werkzeug import Response

from data.providers.adapters.alphavantage import AlphaVantageAdapter
from data.providers.registry import Registry
from data.providers.resilience import RetryPolicy
from errors import BadResponseError, DataError, EmptyDataError, RateLimitError, TransientError
from tests.support.adapters import calls, source
from tests.support.recorded import load, raw

KEY = "av-SECRET"


def adapter(httpserver, timeout=2.0):
    return AlphaVantageAdapter(source(httpserver, timeout=timeout), api_key=KEY)


def test_quotes_one_call_per_symbol_with_key_param(httpserver):
    for sym, price in (("MSFT", "112.1300"), ("SPY", "500.5000")):
        body = load("alphavantage", "global_quote_MSFT_2018-10-05.json")
        body["Global Quote"].update({"01. symbol": sym, "05. price": price})
        httpserver.expect_request("/query", query_string={
            "function": "GLOBAL_QUOTE", "symbol": sym, "apikey": KEY}).respond_with_json(body)
    quotes = adapter(httpserver).fetch_quotes(["MSFT", "SPY"])
    assert [(q.symbol, q.price_usd) for q in quotes] == [("MSFT", 112.13), ("SPY", 500.5)]
    assert calls(httpserver, "/query") == 2


def test_daily_history_clipped_to_inclusive_dates(httpserver):
    httpserver.expect_request("/query", query_string={
        "function": "TIME_SERIES_DAILY", "symbol": "AAPL", "outputsize": "compact", "apikey": KEY}
    ).respond_with_data(
        raw("alphavantage", "time_series_daily_AAPL_compact_2020-09-04.json"),
        content_type="application/json")
    frame = adapter(httpserver).fetch_history(
        "AAPL", datetime(2020, 9, 1, tzinfo=timezone.utc),
        datetime(2020, 9, 3, 23, 59, 59, tzinfo=timezone.utc))
    assert list(frame["close"]) == [134.18, 131.4, 120.88]


def test_empty_range(httpserver):
    httpserver.expect_request("/query").respond_with_data(
        raw("alphavantage", "time_series_daily_AAPL_compact_2020-09-04.json"),
        content_type="application/json")
    with pytest.raises(EmptyDataError):
        adapter(httpserver).fetch_history("AAPL", datetime(2021, 1, 1, tzinfo=timezone.utc),
                                          datetime(2021, 1, 5, tzinfo=timezone.utc))


@pytest.mark.parametrize(("name", "error"), [
    ("rate_limit_note_5_per_minute_2018-2023.json", RateLimitError),
    ("error_message_invalid_api_call.json", BadResponseError),
])
def test_http_200_error_bodies(httpserver, name, error):
    httpserver.expect_request("/query").respond_with_data(raw("alphavantage", name),
                                                          content_type="application/json")
    with pytest.raises(error) as info:
        adapter(httpserver).fetch_history("AAPL", datetime(2020, 9, 1, tzinfo=timezone.utc),
                                          datetime(2020, 9, 3, tzinfo=timezone.utc))
    assert KEY not in str(info.value)


def test_daily_quota_exhausted_is_not_retried_and_falls_back(httpserver):
    httpserver.expect_request("/query").respond_with_data(
        raw("alphavantage", "rate_limit_information_25_per_day_2024.json"),
        content_type="application/json")

    class Backup:
        name, max_symbols_per_request = "backup", 10

        def supports(self, capability, interval=None):
            return True

        def fetch_history(self, symbol, start, end, interval="1d"):
            return "backup-frame"

    slept: list[float] = []
    registry = Registry(adapters={"alphavantage": adapter(httpserver), "backup": Backup()},
                        chains={"SPY": ["alphavantage", "backup"]},
                        policy=RetryPolicy(attempts=4, max_seconds=60), sleep=slept.append)
    result = registry.fetch_history("SPY", datetime(2020, 9, 1, tzinfo=timezone.utc),
                                    datetime(2020, 9, 3, tzinfo=timezone.utc),
                                    now=datetime(2020, 9, 4, tzinfo=timezone.utc))
    assert (result.source, result.frame) == ("backup", "backup-frame")
    assert calls(httpserver, "/query") == 1 and slept == []  # a day's wait is never slept


class SlowHandler:
    """Answers after `delay` seconds; `wait(n)` blocks until n answers were sent (so a late
    answer is never logged into the next test)."""

    def __init__(self, delay: float) -> None:
        self.delay, self.done = delay, threading.Semaphore(0)

    def __call__(self, _request):
        time.sleep(self.delay)
        self.done.release()
        return Response("{}", content_type="application/json")

    def wait(self, n: int) -> None:
        for _ in range(n):
            assert self.done.acquire(timeout=5)


def test_timeout_is_transient(httpserver):
    slow = SlowHandler(0.5)
    httpserver.expect_request("/query").respond_with_handler(slow)
    with pytest.raises(TransientError, match="timed out") as info:
        adapter(httpserver, timeout=0.2).fetch_quotes(["SPY"])
    slow.wait(1)
    assert KEY not in str(info.value) and "apikey=***" in info.value.url_redacted


def test_rate_limit_budget_caps_http_calls(httpserver):
    from data.providers.ratelimit import ProviderRateLimiter, rates_for

    body = load("alphavantage", "global_quote_MSFT_2018-10-05.json")
    httpserver.expect_request("/query").respond_with_json(body)
    symbols = ["MSFT", "SPY", "QQQ", "AAPL", "GLD", "SLV", "IBM"]
    registry = Registry(adapters={"alphavantage": adapter(httpserver)},
                        chains={s: ["alphavantage"] for s in symbols},
                        limiter=ProviderRateLimiter({"alphavantage": rates_for(5, 25)}, max_wait=0),
                        policy=RetryPolicy(attempts=2, max_seconds=10), sleep=lambda s: None)
    results = registry.fetch_quotes(symbols, now=datetime(2018, 10, 6, tzinfo=timezone.utc))
    assert calls(httpserver, "/query") == 5  # 5 per minute: the 6th and 7th never hit the wire
    failed = [s for s, r in results.items() if r.quote is None]
    assert failed == ["SLV", "IBM"]
    assert "budget exhausted" in results["IBM"].error


def test_timeouts_are_retried_a_bounded_number_of_times(httpserver):
    slow = SlowHandler(0.3)
    httpserver.expect_request("/query").respond_with_handler(slow)
    registry = Registry(adapters={"alphavantage": adapter(httpserver, timeout=0.1)},
                        chains={"SPY": ["alphavantage"]},
                        policy=RetryPolicy(attempts=3, max_seconds=60), sleep=lambda s: None)
    with pytest.raises(DataError, match="alphavantage: timed out after 0.1s"):
        registry.fetch_history("SPY", datetime(2020, 9, 1, tzinfo=timezone.utc),
                               datetime(2020, 9, 3, tzinfo=timezone.utc),
                               now=datetime(2020, 9, 4, tzinfo=timezone.utc))
    slow.wait(3)
    assert calls(httpserver, "/query") == 3


def test_spent_budget_neither_retried_nor_held_against_the_provider(httpserver):
    from data.providers.ratelimit import ProviderRateLimiter

    httpserver.expect_request("/query").respond_with_json(
        load("alphavantage", "global_quote_MSFT_2018-10-05.json"))
    slept: list[float] = []
    registry = Registry(adapters={"alphavantage": adapter(httpserver)},
                        chains={s: ["alphavantage"] for s in ("A", "B", "C", "D", "E")},
                        limiter=ProviderRateLimiter({"alphavantage": [Rate(1, Duration.MINUTE)]},
                                                    max_wait=0),
                        policy=RetryPolicy(attempts=4, max_seconds=600), sleep=slept.append,
                        breaker_failures=2)
    results = registry.fetch_quotes(["A", "B", "C", "D", "E"],
                                    now=datetime(2018, 10, 6, tzinfo=timezone.utc))
    assert [s for s, r in results.items() if r.quote] == ["A"]
    assert slept == [] and calls(httpserver, "/query") == 1
    assert registry.breakers["alphavantage"].state == "closed"
    assert registry.drain_outcomes() == {"alphavantage": (True, None)}
