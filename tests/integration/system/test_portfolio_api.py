"""GET /api/portfolio/history and the /api/portfolio payload against a hand computation.

The expected numbers are computed here straight from data/sample/prices_daily.csv with
pandas (merge_asof backward = the last close at or before the day), not with btcfolio code.
"""

from __future__ import annotations

import flask
import pandas as pd
import pytest

import services
from analytics.portfolio_value import value_portfolio
from analytics.staleness import StalenessLimits
from data.store.repository import Repository
from tests.support.sample import SAMPLE
from webapi.payloads import portfolio_payload
from webapi.portfolio_history import bp


@pytest.fixture
def client(settings, repo, now):
    app = flask.Flask(__name__)
    app.register_blueprint(bp)
    services.init(settings, repo, clock=lambda: now)
    return app.test_client()


def hand_history(holdings: dict[str, float], n_days: int) -> pd.DataFrame:
    """Value of the holdings on each of the sample's last n_days BTC dates, in BTC."""
    raw = pd.read_csv(SAMPLE, parse_dates=["date"])
    days = raw.loc[raw["symbol"] == "BTC", ["date", "close"]].sort_values("date")
    days = days.rename(columns={"close": "btc_close"}).iloc[-n_days:].reset_index(drop=True)
    days["value_btc"] = 0.0
    for symbol, qty in holdings.items():
        closes = raw.loc[raw["symbol"] == symbol, ["date", "close"]].sort_values("date")
        asof = pd.merge_asof(days[["date"]], closes, on="date", direction="backward")
        days["value_btc"] += qty * asof["close"] / days["btc_close"]
    return days


def test_history_last_30_days_match_the_csv(client, settings):
    holdings = dict(settings.portfolio.holdings)
    expected = hand_history(holdings, 31)  # one more day for the first return
    resp = client.get("/api/portfolio/history?days=30")
    assert resp.status_code == 200
    rows = resp.get_json()["history"]
    assert len(rows) == 30
    assert [r["date"] for r in rows] == expected["date"].iloc[1:].dt.strftime("%Y-%m-%d").tolist()
    assert rows[-1]["date"] == "2025-08-13"
    for i, row in enumerate(rows, start=1):
        value, prev = expected["value_btc"].iloc[i], expected["value_btc"].iloc[i - 1]
        assert row["value_btc"] == pytest.approx(value, rel=1e-9)
        assert row["return_btc"] == pytest.approx(value / prev - 1, rel=1e-9, abs=1e-12)


def test_history_defaults_to_30_days(client):
    assert len(client.get("/api/portfolio/history").get_json()["history"]) == 30


def test_history_covers_the_whole_sample_at_most(client):
    rows = client.get("/api/portfolio/history?days=3650").get_json()["history"]
    # From the ledger's first day (the sample's opening balances, 2021-01-04, its first day
    # with a close of every held asset) to 2025-08-13: 1683 days; the first has no return.
    assert len(rows) == 1683 and rows[0]["date"] == "2021-01-04"
    assert rows[0]["return_btc"] is None


def test_history_values_each_day_with_that_days_holdings(client, repo, settings):
    from datetime import datetime, timezone

    from data.store import ledger_store

    before = {r["date"]: r for r in
              client.get("/api/portfolio/history?days=3650").get_json()["history"]}
    at = datetime(2024, 1, 1, 15, tzinfo=timezone.utc)
    ledger_store.deposit(repo, settings.portfolio.name, "BTC", 1, now=at)
    after = {r["date"]: r for r in
             client.get("/api/portfolio/history?days=3650").get_json()["history"]}
    # The day before the deposit is unchanged; from its day on, one more BTC.
    assert after["2023-12-31"] == before["2023-12-31"]
    for day in ("2024-01-01", "2024-06-30", "2025-08-13"):
        assert after[day]["value_btc"] == pytest.approx(before[day]["value_btc"] + 1, rel=1e-12)
    # The deposit is not a gain: the day's return is the flow-adjusted (TTWROR) one.
    prev = before["2023-12-31"]["value_btc"]
    assert after["2024-01-01"]["return_btc"] == pytest.approx(
        (after["2024-01-01"]["value_btc"]) / (prev + 1) - 1, rel=1e-9)
    assert after["2024-01-01"]["return_btc"] < 0.2


@pytest.mark.parametrize("days", ["0", "3651", "-1", "abc", "1.5", "", "²"])
def test_history_rejects_bad_days(client, days):
    resp = client.get(f"/api/portfolio/history?days={days}")
    assert resp.status_code == 400
    assert "days" in resp.get_json()["error"]


def test_history_without_btc_prices_is_503(settings):
    empty = Repository.from_url(settings.store.url)
    empty.set_holding("ETH", 1.0)
    app = flask.Flask(__name__)
    app.register_blueprint(bp)
    services.init(settings, empty)
    resp = app.test_client().get("/api/portfolio/history?days=5")
    assert resp.status_code == 503 and "BTC" in resp.get_json()["error"]


def test_portfolio_payload_matches_the_csv(settings, repo, now):
    holdings = repo.load_holdings(settings.portfolio.name)
    valuation = value_portfolio(
        holdings, repo.load_latest_prices(),
        asset_kinds={s: a.kind for s, a in settings.assets.items()}, now=now,
        limits=StalenessLimits.from_settings(settings.staleness))
    body = portfolio_payload(valuation)
    expected = hand_history(holdings, 1).iloc[0]
    raw = pd.read_csv(SAMPLE)
    last = raw[raw["date"] == "2025-08-13"].set_index("symbol")["close"]
    assert body["as_of"] == "2025-08-13T00:00:00+00:00"
    assert body["portfolio_value_btc"] == pytest.approx(expected["value_btc"], rel=1e-9)
    assert body["value_usd"] == pytest.approx(
        sum(q * last[s] for s, q in holdings.items()), rel=1e-9)
    for asset in body["assets"]:
        sym, qty = asset["symbol"], holdings[asset["symbol"]]
        assert asset["value_btc"] == pytest.approx(qty * last[sym] / last["BTC"], rel=1e-9)
        assert body["holdings"][sym] == asset["value_btc"]
        assert asset["value_sats"] == round(qty * last[sym] / last["BTC"] * 1e8)
        assert asset["weight"] == pytest.approx(asset["value_btc"] / expected["value_btc"],
                                                rel=1e-9)
        assert asset["stale"] is False and asset["source"] == "sample"
    assert body["btc_allocation"] == pytest.approx(0.5 / expected["value_btc"], rel=1e-9)
