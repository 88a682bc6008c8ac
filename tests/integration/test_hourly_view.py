"""Hourly view: the hourly job against a local CoinGecko stand-in, retention, the 1h history."""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta

import flask
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import services
from data.jobs import build_jobs
from data.seed import init_portfolio, seed_store
from data.storage import Repository
from settings import load_settings
from tests.conftest import NOW, ROOT, SAMPLE
from tests.fake_provider import provider_env
from webapi import register_api

RANGE = re.compile(r"^/api/v3/coins/([^/]+)/market_chart/range$")
BASE = {"bitcoin": 118_000.0, "ethereum": 4_600.0}


def _price(coin: str, second: int) -> float:
    # A slow wave per coin, so each hour has its own price and BTC/ETH move differently.
    phase = 1.0 if coin == "bitcoin" else 2.5
    return BASE.get(coin, 10.0) * (1 + 0.01 * math.sin(second / 7200 + phase))


def _market_chart(request: Request) -> Response:
    """CoinGecko's /market_chart/range: for a 2-90 day window, one point per hour, each a few
    minutes past the hour (as the real API does), ms timestamps, prices in USD."""
    match = RANGE.match(request.path)
    if not match:
        return Response(json.dumps({"error": "not found"}), status=404)
    coin = match.group(1)
    start, end = int(float(request.args["from"])), int(float(request.args["to"]))
    points = range(start - start % 3600 + 3600 + 217, end, 3600)
    body = {"prices": [[s * 1000, _price(coin, s)] for s in points],
            "market_caps": [[s * 1000, 1e12] for s in points],
            "total_volumes": [[s * 1000, 2e10 + (s % 977)] for s in points]}
    return Response(json.dumps(body), status=200, content_type="application/json")


@pytest.fixture
def provider():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(".*")).respond_with_handler(_market_chart)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def hourly_env(tmp_path, provider):
    env = {**provider_env(provider.url_for("").rstrip("/")),
           "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache")}
    settings = load_settings(ROOT / "config.yaml", env)
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, {"BTC": 0.5, "ETH": 4.0, "SPY": 10.0}, settings.portfolio.name)
    return settings, repo, env


def _old_bar(symbol: str, ts: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame({"ts": [ts], "symbol": [symbol], "vs": ["usd"], "open": [math.nan],
                         "high": [math.nan], "low": [math.nan], "close": [117_000.0], "volume": [0.0],
                         "source": ["coingecko"]})


def test_hourly_job_keeps_seven_days_and_the_api_values_each_hour(hourly_env, provider):
    settings, repo, env = hourly_env
    old = pd.Timestamp(NOW) - timedelta(days=9)
    repo.upsert_prices(_old_bar("BTC", old.floor("h")), interval="1h")
    jobs = build_jobs(settings, repo, env)
    jobs.hourly(NOW)
    bars = repo.load_prices(["BTC", "ETH", "SPY"], interval="1h")
    cutoff = pd.Timestamp(NOW) - timedelta(days=settings.scheduler.hourly_retention_days)
    assert set(bars["symbol"]) == {"BTC", "ETH"}          # SPY: no hourly source, daily as-of
    assert bars["ts"].min() >= cutoff and bars["ts"].max() <= pd.Timestamp(NOW)
    assert old.floor("h") not in set(bars["ts"])            # the 9-day-old bar is gone
    assert 6 * 24 <= (bars["symbol"] == "BTC").sum() <= 7 * 24 + 1

    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo)
    body = app.test_client().get("/api/portfolio/history?interval=1h&days=1").get_json()
    rows = body["history"]
    assert body["interval"] == "1h" and len(rows) == 24
    btc = bars[bars.symbol == "BTC"].set_index("ts")["close"]
    eth = bars[bars.symbol == "ETH"].set_index("ts")["close"]
    spy = repo.load_closes(["SPY"])["SPY"].dropna()
    for row in (rows[0], rows[-1]):
        ts = pd.Timestamp(row["ts"])
        spy_asof = spy.loc[:ts].iloc[-1]                   # the last daily close at or before
        want = 0.5 + 4.0 * eth[ts] / btc[ts] + 10.0 * spy_asof / btc[ts]
        assert row["value_btc"] == pytest.approx(want, rel=1e-12)
    assert len({r["value_btc"] for r in rows}) > 12         # it moves hour by hour

    # A second run a day later: still nothing older than the retention.
    later = NOW + timedelta(days=1)
    jobs.hourly(later)
    kept = repo.load_prices(["BTC"], interval="1h")["ts"]
    assert kept.min() >= pd.Timestamp(later) - timedelta(days=7)


def test_hourly_history_without_bars_is_503_and_bad_days_400(hourly_env):
    settings, repo, _ = hourly_env
    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo)
    client = app.test_client()
    resp = client.get("/api/portfolio/history?interval=1h&days=1")
    assert resp.status_code == 503 and "no hourly bars" in resp.get_json()["error"]
    for bad in ("8", "0", "-1", "1.5", "x", ""):
        assert client.get(f"/api/portfolio/history?interval=1h&days={bad}").status_code == 400
    assert client.get("/api/portfolio/history?interval=1m").status_code == 400


def test_value_chart_offers_24h_and_7d_at_hourly_resolution(hourly_env):
    settings, repo, env = hourly_env
    build_jobs(settings, repo, env).hourly(NOW)
    from app import create_app
    create_app(settings, repo)
    import pages.dashboard as dashboard
    day, _, _, _ = dashboard.update_history_charts(None, "light", "24h")
    week, _, _, _ = dashboard.update_history_charts(None, "light", "7d")
    daily, _, _, _ = dashboard.update_history_charts(None, "light", "all")
    assert len(day.data[0].x) == 24 and len(week.data[0].x) == 7 * 24
    step = pd.Timestamp(day.data[0].x[1]) - pd.Timestamp(day.data[0].x[0])
    assert step == timedelta(hours=1)
    assert len(daily.data[0].x) > 365                      # the daily view is unchanged
    # Acceptance: the 24 h line is the stand-in's hourly bars valued as /api/portfolio/history.
    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo)
    rows = app.test_client().get("/api/portfolio/history?interval=1h&days=1").get_json()
    assert list(day.data[0].y) == pytest.approx([r["value_btc"] for r in rows["history"]],
                                                rel=1e-12)
    assert len(set(day.data[0].y)) > 12                    # it moves with the hourly bars


def test_hourly_job_never_asks_for_assets_without_an_hourly_source(hourly_env, provider, caplog):
    """Only CoinGecko is enabled: SPY has no source with 1h bars. The job asks for none of its
    bars, reports no error for it, says so once in the log and in /api/health."""
    from data.jobs import job_outcome

    settings, repo, env = hourly_env
    jobs = build_jobs(settings, repo, env)
    with caplog.at_level("INFO", logger="data.hourly"):
        first = jobs.hourly(NOW)
        second = jobs.hourly(NOW + timedelta(hours=1))
    asked = {RANGE.match(req.path).group(1) for req, _resp in provider.log}
    assert asked == {"bitcoin", "ethereum"}                 # nothing for SPY
    assert job_outcome(first) == ("ok", None) and job_outcome(second) == ("ok", None)
    assert {a.symbol for a in first.assets} == {"BTC", "ETH"}
    said = [r.getMessage() for r in caplog.records if "no enabled source offers 1h" in
            r.getMessage()]
    assert len(said) == 1 and "SPY" in said[0]
    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo)
    assert app.test_client().get("/api/health").get_json()["hourly"] == {"no_source": ["SPY"]}


def test_hourly_sources_follow_the_adapters_declared_intervals_and_plan_windows(hourly_env):
    from datetime import date

    from data.hourly import hourly_sources
    from data.ingest import build_registry

    settings, _repo, env = hourly_env
    today, start = date(2025, 8, 13), date(2025, 8, 6)
    crypto_only = build_registry(settings, env)
    assert hourly_sources(crypto_only, "BTC", start, today) == ["coingecko"]
    assert hourly_sources(crypto_only, "SPY", start, today) == []
    with_yahoo = load_settings(ROOT / "config.yaml",
                               {**env, "BTCFOLIO__SOURCES__YAHOO__ENABLED": "true",
                                "BTCFOLIO__SOURCES__COINMARKETCAP__ENABLED": "true",
                                "CMC_API_KEY": "k"})
    registry = build_registry(with_yahoo, {**env, "CMC_API_KEY": "k"})
    assert hourly_sources(registry, "SPY", start, today) == ["yahoo"]
    # CoinMarketCap's history is paid-only: on the basic plan it offers no 1h bars.
    assert hourly_sources(registry, "BTC", start, today) == ["coingecko", "yahoo"]
    # CoinGecko's demo plan serves 365 days: a window starting earlier is not its to serve.
    assert "coingecko" not in hourly_sources(registry, "BTC", date(2024, 1, 1), today)
