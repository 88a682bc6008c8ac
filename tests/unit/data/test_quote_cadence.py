"""The quote job calls its provider every period; the shared cache still stops other callers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from data.ingest import pipeline as ingest
from data.providers.cache import PriceCache
from data.scheduling.jobs import build_jobs
from settings import load_settings
from tests.support.live_provider import CRYPTO, LiveMarket, load_closes
from tests.support.sample import ROOT

T0 = datetime(2026, 8, 21, 22, 0, tzinfo=timezone.utc)
PERIOD = 5


@pytest.fixture
def market():
    # Every coin quoted today (the real series of some end earlier, and a coin without a
    # quote is asked again on every run, which is not what these tests count).
    closes = load_closes()
    closes.update({s: closes["BTC"] / (i + 2) for i, s in enumerate(CRYPTO - {"BTC"})})
    live = LiveMarket(lambda: T0, closes=closes).start()
    yield live
    live.stop()


@pytest.fixture
def cfg(market, tmp_path):
    env = {"BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"),
           "BTCFOLIO__REFRESH__INTERVAL_SECONDS": str(PERIOD),
           "BTCFOLIO__CACHE__QUOTE_TTL_SECONDS": str(PERIOD),
           "BTCFOLIO__SOURCES__YAHOO__ENABLED": "false",
           "BTCFOLIO__SOURCES__COINGECKO__BASE_URL": market.url}
    return load_settings(ROOT / "config.yaml", env)


def quote_calls(market) -> int:
    return market.calls()[("coingecko", "quotes")]


def test_quote_job_a_run_a_little_early_still_fetches(cfg, repo, market):
    jobs = build_jobs(cfg, repo, {})
    jobs.quotes(T0)
    # APScheduler starts each run a few ms after its slot, by a varying delay: the next run
    # can find its own last fetch a hair younger than one period. It must fetch all the same.
    jobs.quotes(T0 + timedelta(seconds=PERIOD - 0.01))
    jobs.quotes(T0 + timedelta(seconds=2 * PERIOD + 0.01))
    assert quote_calls(market) == 3


def test_quote_cache_stops_the_cli_and_a_second_scheduler_within_the_period(cfg, repo, market):
    build_jobs(cfg, repo, {}).quotes(T0)
    # The CLI (another process, same cache) two seconds later: served from the cache.
    registry = ingest.build_registry(cfg, {}, PriceCache.from_settings(cfg.cache))
    report = ingest.ingest_once(registry, repo, ["BTC", "ETH"], now=T0 + timedelta(seconds=2),
                                quotes=True)
    assert report.ok
    # A new leader taking over right after (its first run is immediate): no second call.
    build_jobs(cfg, repo, {}).quotes(T0 + timedelta(seconds=1))
    assert quote_calls(market) == 1
