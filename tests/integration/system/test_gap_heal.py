"""Gap healing against the unkind local market (real closes through 2026-08-21, plan windows)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone

import pytest

from data.ingest.gap_heal import heal_gaps
from data.providers.registry import build_registry
from data.store.backfills import load_progress
from settings import load_settings
from tests.support.live_provider import LiveMarket
from tests.support.sample import ROOT

NOW = datetime(2026, 8, 21, 22, 0, tzinfo=timezone.utc)
SAMPLE_END = date(2025, 8, 13)


def market_env(url: str, tmp_path) -> dict[str, str]:
    env = {"BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"),
           "BTCFOLIO__SOURCES__COINMARKETCAP__ENABLED": "false",
           "BTCFOLIO__SOURCES__ALPHAVANTAGE__ENABLED": "false",
           "BTCFOLIO__SOURCES__COINGECKO__RATE_LIMIT__PER_MINUTE": "600",
           "BTCFOLIO__SOURCES__YAHOO__RATE_LIMIT__PER_MINUTE": "600"}
    for source in ("COINGECKO", "COINMARKETCAP", "ALPHAVANTAGE", "YAHOO"):
        env[f"BTCFOLIO__SOURCES__{source}__BASE_URL"] = url
    return env


@pytest.fixture
def market():
    live = LiveMarket(lambda: NOW, rate_limit_every=4).start()
    yield live
    live.stop()


@pytest.fixture
def healing(market, repo, tmp_path):
    """(run, settings): run() heals the sample-seeded store's 12 assets as of NOW."""
    settings = load_settings(ROOT / "config.yaml", market_env(market.url, tmp_path))
    registry = build_registry(settings, {}, None, sleep=lambda s: None)
    kinds = {s: a.kind for s, a in settings.assets.items()}

    def run():
        return heal_gaps(registry, repo, kinds, sorted(settings.assets), now=NOW,
                         max_jump_factor=settings.ingest.max_jump_factor)

    return run


def stored(repo, symbol):
    frame = repo.load_prices([symbol], start=datetime(2025, 8, 14, tzinfo=timezone.utc))
    return dict(zip(frame["ts"].dt.date, zip(frame["close"], frame["source"], strict=True),
                    strict=True))


def test_gap_heal_stores_exactly_the_served_closes_older_days_from_the_next_source(
        healing, market, repo):
    report = healing()
    for symbol in ("BTC", "ETH", "SPY", "QQQ", "AAPL", "GLD", "SLV"):
        served = market.served_closes(symbol, date(2025, 8, 14), NOW.date())
        got = stored(repo, symbol)
        assert {d: c for d, (c, _) in got.items()} == served.to_dict(), symbol
    btc = stored(repo, "BTC")
    # CoinGecko's free plan serves 365 days back: the week before comes from Yahoo.
    assert {btc[date(2025, 8, d)][1] for d in range(14, 21)} == {"yahoo"}
    assert {btc[date(2025, 8, 22)][1], btc[date(2026, 8, 21)][1]} == {"coingecko"}
    assert repo.load_source_health() and all(
        row["healthy"] for row in repo.load_source_health())
    assert report.filled > 7 * 250
    assert market.calls()[("coingecko", "429")] >= 1  # throttled on the way, retried


def test_gap_heal_what_no_source_serves_stays_a_gap_said_once(healing, repo, caplog):
    caplog.set_level(logging.WARNING, logger="data.ingest.gap_heal")
    healing()
    progress = load_progress(repo)
    sol = progress["SOL"]
    # SOL's served history ends 2025-08-13 at both providers: the whole year stays missing.
    assert (sol.missing_days, sol.filled, sol.pct) == (372, 0, 0.0)
    assert sol.unfillable[0][:3] == ("2025-08-14", "2026-08-20", 372)
    assert "coingecko" in sol.unfillable[0][3] and "yahoo" in sol.unfillable[0][3]
    assert progress["BTC"].pct == 100.0 and progress["BTC"].state == "done"
    assert not stored(repo, "SOL")
    first = [r.getMessage() for r in caplog.records if "SOL" in r.getMessage()]
    assert len(first) == 1
    caplog.clear()
    healing()
    assert not [r for r in caplog.records if "SOL" in r.getMessage()]  # not said again
    assert load_progress(repo)["BTC"].missing_days == 0


def test_gap_heal_fills_an_interior_hole_and_keeps_stored_closes(healing, market, repo):
    healing()
    with repo.engine.begin() as conn:
        conn.exec_driver_sql(
            "DELETE FROM prices WHERE symbol='ETH' AND ts BETWEEN %d AND %d" % (
                datetime(2026, 1, 10, tzinfo=timezone.utc).timestamp(),
                datetime(2026, 1, 20, tzinfo=timezone.utc).timestamp()))
    before = market.calls()
    healing()
    assert load_progress(repo)["ETH"].missing_days == 11
    assert load_progress(repo)["ETH"].filled == 11
    served = market.served_closes("ETH", date(2026, 1, 10), date(2026, 1, 20))
    assert {d: c for d, (c, _) in stored(repo, "ETH").items()
            if date(2026, 1, 10) <= d <= date(2026, 1, 20)} == served.to_dict()
    # One CoinGecko history call for ETH's hole, plus the unfillable stretches asked again.
    asked = market.calls() - before
    assert asked[("coingecko", "history")] <= 1 + 5


def test_gap_heal_coingecko_window_error_is_typed_and_not_a_provider_fault(market, tmp_path):
    from errors import OutOfWindowError

    settings = load_settings(ROOT / "config.yaml", market_env(market.url, tmp_path))
    registry = build_registry(settings, {}, None, sleep=lambda s: None)
    old = datetime(2025, 8, 1, tzinfo=timezone.utc)
    with pytest.raises(OutOfWindowError, match="exceeds the allowed time range"):
        registry.fetch_history("BTC", old, old.replace(day=10), now=NOW, sources=["coingecko"])
    assert registry.breakers["coingecko"].state == "closed"
    assert registry.drain_outcomes()["coingecko"] == (True, None)
