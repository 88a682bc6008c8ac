"""Registry: batching by provider, fallback chain, circuit breaker, cache hits, stale-if-error."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from data.models import Quote
from data.providers.adapters.base import make_price_frame
from data.providers.cache import PriceCache
from data.providers.registry import Registry
from data.providers.resilience import RetryPolicy
from errors import DataError, EmptyDataError, NotFoundError, TransientError
from tests.support.sample import NOW


class FakeAdapter:
    """Records calls; answers from a price table or raises a configured error."""

    max_symbols_per_request = 50

    def __init__(self, name, prices=None, error=None, capabilities=("quotes", "history")):
        self.name, self.prices, self.error = name, dict(prices or {}), error
        self.capabilities = capabilities
        self.calls: list[tuple] = []

    def supports(self, capability, interval=None):
        return capability in self.capabilities

    def fetch_quotes(self, symbols):
        self.calls.append(("quotes", tuple(symbols)))
        if self.error:
            raise self.error
        return [Quote(s, self.prices[s], NOW, self.name) for s in symbols if s in self.prices]

    def fetch_history(self, symbol, start, end, interval="1d"):
        self.calls.append(("history", symbol))
        if self.error:
            raise self.error
        if symbol not in self.prices:
            raise NotFoundError(f"{self.name}: unknown {symbol}")
        return make_price_frame([NOW], symbol=symbol, source=self.name, close=[self.prices[symbol]])


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def registry(adapters, chains, **kw):
    kw.setdefault("policy", RetryPolicy(attempts=1, max_seconds=1))
    return Registry(adapters={a.name: a for a in adapters}, chains=chains,
                    sleep=lambda s: None, **kw)


def memory_cache(tmp_path):
    from flask_caching.backends.filesystemcache import FileSystemCache

    return PriceCache(FileSystemCache(str(tmp_path / "cache")), quote_ttl=30, stale_if_error=300)


def test_quotes_grouped_one_call_per_provider():
    cg = FakeAdapter("coingecko", {"BTC": 60000.0, "ETH": 2500.0})
    yh = FakeAdapter("yahoo", {"SPY": 500.0, "QQQ": 450.0})
    reg = registry([cg, yh], {"BTC": ["coingecko"], "ETH": ["coingecko"],
                              "SPY": ["yahoo"], "QQQ": ["yahoo"]})
    out = reg.fetch_quotes(["BTC", "SPY", "ETH", "QQQ"], now=NOW)
    assert {s: r.quote.price_usd for s, r in out.items()} == {
        "BTC": 60000.0, "ETH": 2500.0, "SPY": 500.0, "QQQ": 450.0}
    assert cg.calls == [("quotes", ("BTC", "ETH"))] and yh.calls == [("quotes", ("SPY", "QQQ"))]


def test_quote_missing_at_first_provider_falls_back_to_next():
    cg = FakeAdapter("coingecko", {"BTC": 60000.0})
    cmc = FakeAdapter("coinmarketcap", {"ETH": 2499.0})
    reg = registry([cg, cmc], {"BTC": ["coingecko", "coinmarketcap"],
                               "ETH": ["coingecko", "coinmarketcap"]})
    out = reg.fetch_quotes(["BTC", "ETH"], now=NOW)
    assert (out["ETH"].source, out["ETH"].quote.price_usd) == ("coinmarketcap", 2499.0)
    assert cmc.calls == [("quotes", ("ETH",))]


def test_history_falls_back_when_provider_fails_and_names_all_reasons():
    bad = FakeAdapter("coingecko", error=TransientError("coingecko: HTTP 503"))
    good = FakeAdapter("yahoo", {"BTC": 61000.0})
    reg = registry([bad, good], {"BTC": ["coingecko", "yahoo"]})
    assert reg.fetch_history("BTC", NOW, NOW, now=NOW).source == "yahoo"
    both_bad = registry([bad, FakeAdapter("yahoo", error=TransientError("yahoo: timed out"))],
                        {"BTC": ["coingecko", "yahoo"]})
    with pytest.raises(DataError, match="coingecko: HTTP 503; yahoo: timed out"):
        both_bad.fetch_history("BTC", NOW, NOW, now=NOW)


def test_empty_range_is_final_not_a_fallback():
    empty = FakeAdapter("coingecko", error=EmptyDataError("coingecko: no prices"))
    other = FakeAdapter("yahoo", {"BTC": 1.0})
    with pytest.raises(EmptyDataError):
        registry([empty, other], {"BTC": ["coingecko", "yahoo"]}).fetch_history(
            "BTC", NOW, NOW, now=NOW)
    assert other.calls == []


def test_circuit_breaker_opens_skips_provider_then_closes_after_reset():
    clock = Clock()
    flaky = FakeAdapter("coingecko", {"BTC": 60000.0}, error=TransientError("down"))
    backup = FakeAdapter("yahoo", {"BTC": 60100.0})
    reg = registry([flaky, backup], {"BTC": ["coingecko", "yahoo"]}, breaker_failures=2,
                   breaker_reset_seconds=300, clock=clock)
    for _ in range(4):
        assert reg.fetch_history("BTC", NOW, NOW, now=NOW).source == "yahoo"
    assert len(flaky.calls) == 2  # opened after 2 failures; calls 3 and 4 skipped it
    assert reg.breakers["coingecko"].state == "open"
    clock.t = 301  # half-open: one trial goes through, succeeds, breaker closes
    flaky.error = None
    assert reg.fetch_history("BTC", NOW, NOW, now=NOW).source == "coingecko"
    assert reg.breakers["coingecko"].state == "closed" and len(flaky.calls) == 3


def test_failed_trial_reopens_breaker():
    clock = Clock()
    flaky = FakeAdapter("coingecko", error=TransientError("down"))
    reg = registry([flaky], {"BTC": ["coingecko"]}, breaker_failures=1, clock=clock)
    with pytest.raises(DataError):
        reg.fetch_history("BTC", NOW, NOW, now=NOW)
    clock.t = 301
    with pytest.raises(DataError):
        reg.fetch_history("BTC", NOW, NOW, now=NOW)
    assert reg.breakers["coingecko"].state == "open" and len(flaky.calls) == 2


def test_not_found_does_not_count_against_the_provider():
    cg = FakeAdapter("coingecko", {})
    reg = registry([cg], {"XYZ": ["coingecko"]}, breaker_failures=1)
    with pytest.raises(DataError):
        reg.fetch_history("XYZ", NOW, NOW, now=NOW)
    assert reg.breakers["coingecko"].state == "closed"
    assert reg.drain_outcomes() == {"coingecko": (True, None)}


def test_fresh_cached_quote_makes_no_call(tmp_path):
    cg = FakeAdapter("coingecko", {"BTC": 60000.0})
    reg = registry([cg], {"BTC": ["coingecko"]}, cache=memory_cache(tmp_path))
    reg.fetch_quotes(["BTC"], now=NOW)
    second = reg.fetch_quotes(["BTC"], now=NOW + timedelta(seconds=29))
    assert second["BTC"].from_cache and second["BTC"].quote.price_usd == 60000.0
    assert len(cg.calls) == 1
    reg.fetch_quotes(["BTC"], now=NOW + timedelta(seconds=31))  # past one refresh period
    assert len(cg.calls) == 2


def test_stale_if_error_serves_cached_quote_then_flags_it_stale(tmp_path):
    cg = FakeAdapter("coingecko", {"BTC": 60000.0})
    reg = registry([cg], {"BTC": ["coingecko"]}, cache=memory_cache(tmp_path))
    reg.fetch_quotes(["BTC"], now=NOW)
    cg.error = TransientError("coingecko: HTTP 503")
    within = reg.fetch_quotes(["BTC"], now=NOW + timedelta(seconds=200))["BTC"]
    assert (within.quote.price_usd, within.from_cache, within.stale) == (60000.0, True, False)
    assert "HTTP 503" in within.error
    later = reg.fetch_quotes(["BTC"], now=NOW + timedelta(seconds=301))["BTC"]
    assert later.quote.price_usd == 60000.0 and later.stale


def test_history_cache_hit_makes_no_call(tmp_path):
    cg = FakeAdapter("coingecko", {"BTC": 60000.0})
    reg = registry([cg], {"BTC": ["coingecko"]}, cache=memory_cache(tmp_path))
    first = reg.fetch_history("BTC", NOW, NOW, now=NOW)
    second = reg.fetch_history("BTC", NOW, NOW, now=NOW + timedelta(minutes=5))
    assert second.from_cache and second.source == "coingecko"
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert len(cg.calls) == 1
