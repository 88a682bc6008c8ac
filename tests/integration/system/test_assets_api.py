"""/api/assets against a local CoinGecko + Yahoo stand-in: add, list, hold, backfill, delete.

The stand-in's DOGE prices are synthetic (tests/support/provider_standin.py says why and how).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app import create_app
from data.scheduling.jobs import build_jobs
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from data.store.universe import effective_universe
from settings import load_settings
from tests.support.provider_standin import ProviderStandIn
from tests.support.sample import ROOT, SAMPLE

DOGE = {"symbol": "DOGE", "category": "high_vol_crypto",
        "symbols": {"coingecko": "dogecoin", "yahoo": "DOGE-USD"}}
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: connection refused, as when offline


@pytest.fixture
def standin():
    server = ProviderStandIn().start()
    yield server
    server.stop()


def _app(tmp_path, env):
    settings = load_settings(ROOT / "config.yaml", {
        "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
        "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"), **env})
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE)
    init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
    return settings, repo, create_app(settings, repo, environ={}).server.test_client()


@pytest.fixture
def online(tmp_path, standin):
    return (*_app(tmp_path, standin.env()), standin)


@pytest.fixture
def offline(tmp_path):
    env = {f"BTCFOLIO__SOURCES__{s}__BASE_URL": CLOSED_PORT
           for s in ("COINGECKO", "YAHOO", "COINMARKETCAP", "ALPHAVANTAGE")}
    return _app(tmp_path, env)


def _listed(client) -> dict:
    resp = client.get("/api/assets")
    assert resp.status_code == 200
    return {a["symbol"]: a for a in resp.get_json()["assets"]}


def test_assets_get_lists_the_config_universe_with_its_origin(offline):
    settings, _, client = offline
    listed = _listed(client)
    assert list(listed) == list(settings.assets)
    assert {a["origin"] for a in listed.values()} == {"config"}
    assert listed["BTC"]["symbols"]["coingecko"] == "bitcoin"
    assert listed["BTC"]["held"] is True and listed["SLV"]["held"] is False


def test_assets_post_online_looks_up_the_name_and_checks_each_id(online):
    settings, repo, client, standin = online
    resp = client.post("/api/assets", json={k: v for k, v in DOGE.items() if k != "category"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    # Name and kind came from the CoinGecko lookup; category from the kind (none was given).
    assert (body["name"], body["kind"], body["category"]) == ("Dogecoin", "crypto",
                                                               "high_vol_crypto")
    # CoinGecko's first history call was a 429 (one attempt while the user waits): Yahoo's
    # chart proved the mapping; CoinGecko is reported as not checked, with the reason.
    assert body["status"] == "verified" and body["checked_with"] == ["yahoo"]
    assert "429" in body["not_checked"][0] or "rate" in body["not_checked"][0].lower()
    assert standin.calls["markets"] == 1 and standin.calls["quote"] == 1
    listed = _listed(client)
    assert listed["DOGE"]["origin"] == "custom" and listed["DOGE"]["data"] == "no data yet"
    assert list(listed)[-1] == "DOGE"  # config first, then custom
    assert repo.get_meta("backfill:DOGE") is not None


def test_assets_post_an_id_the_provider_does_not_know_is_400_and_stores_nothing(online):
    settings, repo, client, _ = online
    for symbols in ({"coingecko": "dogecoinn"}, {"yahoo": "DOGE-USDX"},
                    {"coingecko": "dogecoin", "yahoo": "NOPE-USD"}):
        resp = client.post("/api/assets", json={**DOGE, "symbols": symbols})
        assert resp.status_code == 400, symbols
        assert "symbols:" in resp.get_json()["error"]
    assert "DOGE" not in effective_universe(settings, repo)
    assert repo.get_meta("backfill:DOGE") is None


def test_assets_post_offline_saves_it_as_no_data_yet(offline):
    settings, repo, client = offline
    resp = client.post("/api/assets", json={**DOGE, "kind": "crypto", "name": "Dogecoin"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "unchecked" and body["checked_with"] == []
    assert len(body["not_checked"]) == 2 and body["data"] == "no data yet"
    assert _listed(client)["DOGE"]["status"] == "unchecked"


def test_assets_post_offline_without_kind_asks_for_it(offline):
    settings, repo, client = offline
    resp = client.post("/api/assets", json=DOGE)
    assert resp.status_code == 400
    assert resp.get_json()["error"].startswith("kind:")
    assert "DOGE" not in effective_universe(settings, repo)


def test_assets_post_twice_is_409(offline):
    client = offline[2]
    body = {**DOGE, "kind": "crypto"}
    assert client.post("/api/assets", json=body).status_code == 201
    again = client.post("/api/assets", json=body)
    assert again.status_code == 409 and "already" in again.get_json()["error"]


def test_assets_delete_refused_while_held_and_for_config_assets(offline):
    settings, repo, client = offline
    assert client.post("/api/assets", json={**DOGE, "kind": "crypto"}).status_code == 201
    assert client.post("/api/holdings", json={"symbol": "doge", "quantity": 1000}
                       ).status_code == 201
    held = client.delete("/api/assets/DOGE")
    assert held.status_code == 409 and "held" in held.get_json()["error"]
    config = client.delete("/api/assets/ETH")
    assert config.status_code == 409 and "config.yaml" in config.get_json()["error"]
    assert client.delete("/api/holdings/DOGE").status_code == 200
    assert client.delete("/api/assets/doge").status_code == 200
    assert "DOGE" not in _listed(client)
    assert repo.get_meta("backfill:DOGE") is None  # no backfill retries a removed asset
    assert client.delete("/api/assets/DOGE").status_code == 404
    assert client.post("/api/holdings", json={"symbol": "DOGE", "quantity": 1}
                       ).status_code == 400


def test_assets_doge_is_backfilled_valued_in_btc_and_survives_a_restart(online, tmp_path):
    settings, repo, client, standin = online
    assert client.post("/api/assets", json=DOGE).status_code == 201
    assert client.post("/api/holdings", json={"symbol": "DOGE", "quantity": 20000}
                       ).status_code == 201
    now = datetime.now(timezone.utc)
    # The scheduler's jobs (a fresh job set, as in another process): the backfill picks DOGE
    # up, the quotes job brings today's BTC (the bundled sample ends in 2025).
    jobs = build_jobs(settings, repo, {})
    report = jobs.backfill(now)
    doge = next(a for a in report.assets if a.symbol == "DOGE")
    assert doge.error is None and doge.rows >= 360
    assert standin.calls["history"] >= 2  # the 429 was retried
    jobs.quotes(now)
    assert _listed(client)["DOGE"]["data"] == "ok"
    # "Restart": a new store handle and app on the same file.
    again = create_app(settings, Repository.from_url(settings.store.url),
                       environ={}).server.test_client()
    assert _listed(again)["DOGE"]["origin"] == "custom"
    payload = again.get("/api/portfolio").get_json()
    doge_row = next(a for a in payload["assets"] if a["symbol"] == "DOGE")
    quotes = repo.load_quotes().set_index("symbol")["price_usd"]
    expected = 20000 * quotes["DOGE"] / quotes["BTC"]
    assert doge_row["quantity"] == 20000 and doge_row["source"] == "coingecko"
    assert payload["holdings"]["DOGE"] == pytest.approx(expected, rel=1e-9)
