"""Valuation now, through the running app: quotes stamped seconds apart, histories ending on
different days, a delisted holding (MATIC), against a local CoinGecko in its own format.

The quote job runs for real (registry, cache, validation, store) against pytest-httpserver;
the numbers are then read through the app's routes and the dashboard's callbacks at a fixed
clock (``create_app(clock=)``). Quote prices are the real 2026-08-21 closes of
/work/shared/data/prices (BTC 78,342.52, ETH 2,485.85).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from werkzeug import Request, Response

from app import create_app
from components import ids
from data.scheduling.jobs import build_jobs
from settings import load_settings
from tests.support.dash import csv_rows, header_value
from tests.support.sample import NOW, ROOT

QUOTE_TIME = datetime(2026, 8, 21, 12, 0, 0, tzinfo=timezone.utc)
# CoinGecko stamps each coin with its own last_updated_at: ETH 4 s, USDC 9 s after BTC.
SERVED = {"bitcoin": (78342.5234375, 0), "ethereum": (2485.85009765625, 4),
          "usd-coin": (0.99981, 9)}


def _simple_price(request: Request) -> Response:
    ids_asked = request.args.get("ids", "").split(",")
    body = {cid: {"usd": price, "usd_24h_change": -1.2,
                  "last_updated_at": int(QUOTE_TIME.timestamp()) + offset}
            for cid, (price, offset) in SERVED.items() if cid in ids_asked}
    return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def live(tmp_path, httpserver, repo):
    """Settings pointed at the local CoinGecko (every other source off), on the seeded store."""
    env = {"BTCFOLIO__STORE__URL": repo.engine.url.render_as_string(hide_password=False),
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "live-cache"),
           "BTCFOLIO__SOURCES__COINGECKO__BASE_URL": httpserver.url_for("/").rstrip("/")}
    for name in ("COINMARKETCAP", "ALPHAVANTAGE", "YAHOO"):
        env[f"BTCFOLIO__SOURCES__{name}__ENABLED"] = "false"
    httpserver.expect_request("/api/v3/simple/price").respond_with_handler(_simple_price)
    return load_settings(ROOT / "config.yaml", env)


def _client(settings, repo, now):
    return create_app(settings, repo, environ={}, clock=lambda: now).server.test_client()


def test_quotes_seconds_apart_each_value_their_asset(live, repo):
    now = QUOTE_TIME + timedelta(seconds=30)
    report = build_jobs(live, repo, {}).quotes(now)
    assert not [a.error for a in report.assets if a.error and a.symbol in ("BTC", "ETH")]
    client = _client(live, repo, now)
    body = client.get("/api/portfolio").get_json()
    assets = {a["symbol"]: a for a in body["assets"]}
    assert body["as_of"] == QUOTE_TIME.isoformat()  # the BTC price used
    eth = assets["ETH"]
    # ETH's quote is 4 s newer than BTC's: valued at it, not at its 2025-08-13 sample close.
    assert eth["price_ts"] == (QUOTE_TIME + timedelta(seconds=4)).isoformat()
    assert eth["source"] == "coingecko" and eth["stale"] is False
    assert eth["price_usd"] == SERVED["ethereum"][0]
    assert eth["value_btc"] == pytest.approx(4 * 2485.85009765625 / 78342.5234375, rel=1e-12)
    assert assets["USDC"]["price_ts"] == (QUOTE_TIME + timedelta(seconds=9)).isoformat()
    # No quote for SOL or the stocks: kept at their last close, flagged, never dropped.
    assert assets["SOL"]["stale"] is True and assets["SOL"]["source"] == "sample"
    assert body["unpriced"] == [] and len(assets) == len(live.portfolio.holdings)
    # The page and the CSV show the same numbers as the API.
    header = header_value(client)
    assert header[ids.PORTFOLIO_VALUE_BTC]["children"] == f"₿{body['portfolio_value_btc']:,.8f}"
    rows = csv_rows(client)
    assert rows["ETH"]["value_btc"] == f"{eth['value_btc']:.8f}"
    assert rows["ETH"]["stale"] == "false" and rows["SOL"]["stale"] == "true"


def test_asset_whose_close_is_newer_than_btcs_price_is_still_valued(live, repo):
    # BTC's daily job failed on 2025-08-14, SPY's did not: SPY has a close one day newer.
    spy = pd.DataFrame({"ts": [pd.Timestamp("2025-08-14", tz="UTC")], "symbol": ["SPY"],
                        "vs": ["usd"], "open": [645.0], "high": [646.0], "low": [640.0],
                        "close": [644.95], "volume": [1e6], "source": ["yahoo"]})
    repo.upsert_prices(spy)
    now = datetime(2025, 8, 14, 21, 0, tzinfo=timezone.utc)
    body = _client(live, repo, now).get("/api/portfolio").get_json()
    assets = {a["symbol"]: a for a in body["assets"]}
    assert "SPY" not in body["unpriced"]
    assert assets["SPY"]["price_ts"] == "2025-08-14T00:00:00+00:00"
    assert assets["SPY"]["price_usd"] == 644.95
    assert body["as_of"] == "2025-08-13T00:00:00+00:00"
    assert assets["SPY"]["value_btc"] == pytest.approx(10 * 644.95 / body["btc_usd"], rel=1e-12)


@pytest.fixture
def with_matic(live, repo):
    # Held since the start of the stored history (an opening balance), series ends 2025-03-24.
    from data.store import ledger_store

    ledger_store.write_openings(repo, live.portfolio.name, {"MATIC": 20_000.0},
                                at=ledger_store.opening_ts(repo, ["MATIC"]))
    return _client(live, repo, NOW)


def test_matic_held_portfolio_total_equals_last_history_day(with_matic):
    body = with_matic.get("/api/portfolio").get_json()
    matic = next(a for a in body["assets"] if a["symbol"] == "MATIC")
    assert matic["stale"] is True and matic["price_ts"].startswith("2025-03-24")
    last = with_matic.get("/api/portfolio/history?days=1").get_json()["history"][-1]
    assert last["date"] == body["as_of"][:10]  # the same as-of day
    assert last["value_btc"] == pytest.approx(body["portfolio_value_btc"], rel=1e-12)
    assert last["stale"] == ["MATIC"]
    # The day MATIC's series ended is no loss on the chart: the value goes on at its last price.
    days = with_matic.get("/api/portfolio/history?days=160").get_json()["history"]
    end = next(i for i, d in enumerate(days) if d["date"] == "2025-03-26")
    assert "MATIC" in days[end]["stale"] and "MATIC" not in days[end - 2]["stale"]


def test_matic_held_rebalance_excludes_it_unless_asked(with_matic):
    body = with_matic.get("/api/rebalance?target_btc_pct=0.3").get_json()
    assert "MATIC" not in {t["symbol"] for t in body["trades"]}
    assert "stale price from 2025-03-24" in body["excluded"]["MATIC"]
    portfolio = with_matic.get("/api/portfolio").get_json()
    assert body["before"] == portfolio  # exactly the /api/portfolio shape and numbers
    # On target up to the whole-share rounding the plan reports (stocks/ETFs have lot_size 1).
    after_share = body["after"]["btc_allocation"]
    assert after_share == pytest.approx(body["rounding"]["btc_share_after"])
    assert abs(after_share - 0.3) == pytest.approx(body["rounding"]["target_gap"], abs=1e-9)
    assert abs(after_share - 0.3) < 0.01
    after_matic = next(a for a in body["after"]["assets"] if a["symbol"] == "MATIC")
    assert after_matic["quantity"] == 20_000.0 and after_matic["stale"] is True
    assert all(isinstance(a["value_sats"], int) for a in body["after"]["assets"])
    forced = with_matic.get("/api/rebalance?target_btc_pct=0.3&include_stale=true").get_json()
    assert "MATIC" in {t["symbol"] for t in forced["trades"]}
    assert forced["excluded"] == {}
    bad = with_matic.get("/api/rebalance?include_stale=yes")
    assert bad.status_code == 400 and "include_stale" in bad.get_json()["error"]


def test_matic_held_header_change_and_csv_flag_it(with_matic):
    response = header_value(with_matic)
    change = response[ids.HEADER_CHANGE_24H]["children"]
    assert change.endswith("excl. MATIC") and change[0] in "+-"
    assert csv_rows(with_matic)["MATIC"]["stale"] == "true"
