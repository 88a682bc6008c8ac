"""/api/backtest and /api/correlation/rolling on a store seeded from the sample."""

from __future__ import annotations

import math

import flask
import pandas as pd
import pytest

import services
from webapi import register_api

FIELDS = {"total_return_btc", "annualised_return_btc", "volatility_btc_365", "max_drawdown_btc",
          "turnover", "fees_btc", "series"}


@pytest.fixture
def client(settings, repo):
    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo)
    return app.test_client()


def test_api_backtest_returns_every_strategy_over_three_years(client):
    resp = client.get("/api/backtest?rebalance=monthly&years=3&fee_bps=10&target_btc_pct=0.5")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body["strategies"]) == {"current", "optimized", "btc_target"}
    assert (body["start"], body["end"]) == ("2022-08-14", "2025-08-13")
    for name, s in body["strategies"].items():
        assert set(s) == FIELDS, name
        assert len(s["series"]) == 1096 and s["series"][0]["date"] == "2022-08-14"
        first, last = s["series"][0]["value_btc"], s["series"][-1]["value_btc"]
        assert s["total_return_btc"] == pytest.approx(last / first - 1)
        assert s["max_drawdown_btc"] <= 0 and s["fees_btc"] > 0 and s["turnover"] > 0
        assert math.isfinite(s["volatility_btc_365"])


def test_api_backtest_btc_target_100_percent_is_exactly_zero(client):
    body = client.get("/api/backtest?strategy=btc_target&target_btc_pct=1").get_json()
    s = body["strategies"]["btc_target"]
    assert s["total_return_btc"] == 0.0 and s["fees_btc"] == 0.0
    assert len({p["value_btc"] for p in s["series"]}) == 1


def test_api_backtest_quarterly_trades_less_than_monthly(client):
    monthly = client.get("/api/backtest?strategy=current&rebalance=monthly").get_json()
    quarterly = client.get("/api/backtest?strategy=current&rebalance=quarterly").get_json()
    assert (quarterly["strategies"]["current"]["turnover"]
            < monthly["strategies"]["current"]["turnover"])


def test_api_correlation_rolling_has_a_line_per_held_asset(client, repo, settings):
    repo.set_holding("MATIC", 10.0, settings.portfolio.name)   # its series ended 2025-03-24
    body = client.get("/api/correlation/rolling?window_days=90&days=365").get_json()
    held = set(repo.load_holdings(settings.portfolio.name)) - {"BTC"}
    assert set(body["series"]) == held
    eth = body["series"]["ETH"]
    assert len(eth) == 365 and eth[-1]["date"] == "2025-08-13"
    assert all(-1 <= p["corr_btc"] <= 1 for p in eth)
    matic = {p["date"]: p["corr_btc"] for p in body["series"]["MATIC"]}
    assert matic["2025-08-13"] is None and matic["2025-01-01"] is not None


def test_drift_chart_draws_the_largest_holdings_the_api_all(repo, settings):
    from queries.correlation_drift import correlation_drift

    full = correlation_drift(repo, settings)
    top = correlation_drift(repo, settings, top=2)
    held = list(full.frame.columns)
    closes = repo.load_closes(held).ffill().iloc[-1]
    quantities = repo.load_holdings(settings.portfolio.name)
    largest = sorted(held, key=lambda s: -quantities[s] * closes[s])[:2]
    assert set(top.frame.columns) == set(largest) and len(held) > 2
    assert set(top.left_out) == set(held) - set(largest) and full.left_out == ()
    pd.testing.assert_frame_equal(top.frame, full.frame[top.frame.columns])
