"""/api/health's truth: source states, overall status, history filling summary."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from data.store.backfills import progress_record
from queries.health import overall_status, source_states
from queries.history_fill import summarize
from settings import load_settings
from tests.support.sample import ROOT

UNIVERSE = ["BTC", "ETH", "SOL", "SPY"]
NOW = datetime(2026, 8, 21, 22, tzinfo=timezone.utc)


def row(state="done", missing=0, filled=0, unfillable=()):
    return progress_record(state=state, missing_days=missing, filled=filled,
                           unfillable=[list(u) for u in unfillable], now=NOW)


@pytest.fixture
def cfg(tmp_path):
    return load_settings(ROOT / "config.yaml", {"BTCFOLIO__STORE__URL": "sqlite://",
                                                "BTCFOLIO__SOURCES__ALPHAVANTAGE__ENABLED":
                                                    "false"})


def test_health_keyless_provider_is_disabled_no_api_key(cfg):
    states = source_states(cfg, {"coingecko": {"healthy": True}}, environ={})
    assert states["coinmarketcap"]["status"] == "disabled: no API key"
    assert states["coinmarketcap"]["enabled"] is False
    assert states["alphavantage"]["status"] == "disabled"
    assert states["coingecko"]["status"] == "ok" and states["yahoo"]["status"] == "not called yet"
    with_key = source_states(cfg, {}, environ={"CMC_API_KEY": "k"})
    assert with_key["coinmarketcap"]["enabled"] is True


def test_health_overall_status(cfg):
    done = summarize({s: row() for s in UNIVERSE}, UNIVERSE)
    ok = {"coingecko": {"healthy": True}, "yahoo": {"healthy": True}}
    assert overall_status(source_states(cfg, ok, {}), done) == "ok"
    one_down = {"coingecko": {"healthy": True}, "yahoo": {"healthy": False}}
    assert overall_status(source_states(cfg, one_down, {}), done) == "degraded"
    all_down = {"coingecko": {"healthy": False}, "yahoo": {"healthy": False}}
    # The key-less CoinMarketCap is not "working": every enabled source failing is "down".
    assert overall_status(source_states(cfg, all_down, {}), done) == "down"
    gap = summarize({"SOL": row(missing=372, unfillable=[("2025-08-14", "2026-08-20", 372,
                                                           "no data")])}, UNIVERSE)
    assert overall_status(source_states(cfg, ok, {}), gap) == "degraded"
    filling = summarize({"BTC": row("filling", 372, 100)}, UNIVERSE)
    assert overall_status(source_states(cfg, ok, {}), filling) == "degraded"


def test_health_history_summary_counts_assets_and_days():
    summary = summarize({"BTC": row(missing=372, filled=372), "ETH": row("filling", 372, 186),
                         "SOL": row(missing=372, unfillable=[("a", "b", 372, "why")]),
                         "XRP": row(missing=5)}, UNIVERSE)
    assert (summary.complete, summary.total) == (1, 4)  # BTC (SPY not reached by the run yet)
    assert (summary.missing_days, summary.filled, summary.pct) == (1116, 558, 50.0)
    assert summary.filling and summary.unfilled == {"SOL": 372}
    assert set(summary.as_json()["assets"]) == {"BTC", "ETH", "SOL"}
    idle = summarize({"BTC": row(missing=3, filled=3)}, UNIVERSE)
    assert (idle.complete, idle.filling, idle.pct) == (4, False, 100.0)
