"""/api/transactions, /api/transactions/import|export, /api/performance, /api/holdings entries."""

from __future__ import annotations

import json

import pytest

from app import create_app
from data.store import ledger_store
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from tests.support.ledger import LEDGER_CSV
from tests.support.sample import NOW, SAMPLE


@pytest.fixture
def client(settings, repo):
    return create_app(settings, repo).server.test_client()


@pytest.fixture
def empty(settings, tmp_path):
    """An app on a seeded store whose portfolio is empty (holdings: {})."""
    settings = settings.model_copy(update={"portfolio": settings.portfolio.model_copy(
        update={"holdings": {}})})
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, {}, settings.portfolio.name)
    return settings, repo, create_app(settings, repo).server.test_client()


def _entries(repo, settings):
    return ledger_store.load_entries(repo, settings.portfolio.name)


def test_transactions_list_shows_opening_balances_and_holdings(client, settings):
    body = client.get("/api/transactions").get_json()
    assert {t["type"] for t in body["transactions"]} == {"ADJUSTMENT"}
    assert body["holdings"]["ETH"] == "4" and body["holdings"]["BTC"] == "0.5"
    btc = next(t for t in body["transactions"] if t["asset"] == "BTC")
    assert btc["quantity_sats"] == 50_000_000
    assert body["negative_balances"] == []


def test_transactions_post_adds_an_entry_and_delete_removes_it(client, repo, settings):
    resp = client.post("/api/transactions", json={
        "date": "2025-08-01", "type": "BUY", "asset": "ETH", "quantity": 0.5,
        "price": "3800.10", "fee": 1.5, "note": "dip"})
    assert resp.status_code == 201, resp.get_json()
    stored = resp.get_json()["transaction"]
    assert (stored["type"], stored["counter_asset"], stored["counter_quantity"]) == (
        "TRADE", "USD", "1900.05")
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 4.5
    assert repo.load_holdings(settings.portfolio.name)["USD"] == pytest.approx(-1901.55)
    # Spending cash never deposited: flagged as a missing deposit.
    flags = client.get("/api/transactions").get_json()["negative_balances"]
    assert [f["asset"] for f in flags] == ["USD"] and "missing" in flags[0]["message"]
    assert client.delete(f"/api/transactions/{stored['id']}").status_code == 200
    assert client.delete(f"/api/transactions/{stored['id']}").status_code == 404
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 4.0


@pytest.mark.parametrize("body", [
    {"date": "2025-08-01", "type": "DEPOSIT", "asset": "DOGE", "quantity": 1},
    {"date": "2025-08-01", "type": "DEPOSIT", "asset": "ETH", "quantity": -1},
    {"date": "2025-08-01", "type": "DEPOSIT", "asset": "ETH", "quantity": True},
    {"date": "2025-08-01", "type": "DEPOSIT", "asset": "ETH", "quantity": [1]},
    {"date": "2025-08-01", "type": "DEPOSIT", "asset": "ETH", "quantity": 1, "admin": 1},
    {"date": "soon", "type": "DEPOSIT", "asset": "ETH", "quantity": 1},
    {"type": "DEPOSIT", "asset": "ETH", "quantity": 1}, [], "x", None,
])
def test_transactions_post_bad_input_is_400_and_stores_nothing(client, repo, settings, body):
    before = _entries(repo, settings)
    resp = client.post("/api/transactions", data=json.dumps(body),
                       content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"]
    assert _entries(repo, settings) == before


def test_transactions_post_same_external_id_twice_is_409(client):
    body = {"date": "2025-08-01", "type": "DEPOSIT", "asset": "ETH", "quantity": 1,
            "external_id": "kraken-42"}
    assert client.post("/api/transactions", json=body).status_code == 201
    assert client.post("/api/transactions", json=body).status_code == 409


def test_transactions_import_dry_run_then_import_then_reimport(empty):
    settings, repo, client = empty
    post = {"data": LEDGER_CSV, "content_type": "text/csv"}
    dry = client.post("/api/transactions/import?dry_run=true", **post)
    assert dry.status_code == 200
    body = dry.get_json()
    assert (body["rows"], body["new"], body["duplicates"], body["dry_run"]) == (8, 8, 0, True)
    assert _entries(repo, settings) == []
    done = client.post("/api/transactions/import?timezone=Europe/Zurich", **post)
    assert done.status_code == 201 and done.get_json()["new"] == 8
    again = client.post("/api/transactions/import?timezone=Europe/Zurich", **post).get_json()
    assert (again["new"], again["duplicates"]) == (0, 8)
    assert len(_entries(repo, settings)) == 8


def test_transactions_import_bad_file_is_400_naming_every_row(empty):
    settings, repo, client = empty
    bad = LEDGER_CSV.replace("2024-01-03,BUY,exchange,ETH,3", "2024-01-03,BUY,exchange,DOGE,3")
    bad = bad.replace("WITHDRAWAL,exchange,USD,2000", "WITHDRAWAL,exchange,USD,-2000")
    resp = client.post("/api/transactions/import", data=bad, content_type="text/csv")
    assert resp.status_code == 400
    assert [(e["row"], e["field"]) for e in resp.get_json()["errors"]] == [
        (2, "asset"), (7, "quantity")]
    assert _entries(repo, settings) == []


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"data": LEDGER_CSV, "content_type": "text/plain"}, 415),
    ({"data": LEDGER_CSV, "content_type": "multipart/form-data; boundary=x"}, 415),
    ({"data": b"\xff\xfe\x00bad", "content_type": "text/csv"}, 400),
    ({"data": "date,type\n" + "x" * (9 * 1024 * 1024), "content_type": "text/csv"}, 413),
    ({"data": '{"activities": [', "content_type": "application/json"}, 400),
])
def test_transactions_import_refusals(empty, kwargs, status):
    settings, repo, client = empty
    resp = client.post("/api/transactions/import", **kwargs)
    assert resp.status_code == status
    assert _entries(repo, settings) == []


def test_transactions_export_then_import_into_an_empty_store(empty, tmp_path):
    settings, repo, client = empty
    client.post("/api/transactions/import", data=LEDGER_CSV, content_type="text/csv")
    resp = client.get("/api/transactions/export?format=csv")
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    other_settings = settings.model_copy(update={"store": settings.store.model_copy(
        update={"url": f"sqlite:///{tmp_path / 'other.db'}"})})
    other = Repository.from_url(other_settings.store.url)
    other_client = create_app(other_settings, other).server.test_client()
    assert other_client.post("/api/transactions/import", data=resp.data,
                             content_type="text/csv").status_code == 201
    assert ([e.content() for e in _entries(other, settings)]
            == [e.content() for e in _entries(repo, settings)])
    ghost = client.get("/api/transactions/export?format=ghostfolio")
    assert ghost.mimetype == "application/json" and ghost.get_json()["activities"]


def test_performance_of_the_sample_portfolio(client):
    resp = client.get("/api/performance")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    for key in ("value_btc_start", "value_btc_end", "net_flows_btc", "twr_btc",
                "twr_btc_annualised", "mwr_btc", "value_usd_start", "value_usd_end",
                "net_flows_usd", "twr_usd", "twr_usd_annualised", "mwr_usd", "hodl_btc",
                "vs_hodl_btc", "vs_hodl_sats", "volatility_btc_365", "max_drawdown_btc",
                "assets", "series"):
        assert key in body, key
    # Opening balances on the sample's first full day; the series runs to its last close.
    assert body["start"] == "2021-01-04" and body["series"][-1]["date"] == "2025-08-13"
    assert body["series"][-1]["value_btc"] == pytest.approx(body["value_btc_end"])
    # No flow after the opening: HODL is the opening value held as BTC.
    assert body["hodl_btc"] == pytest.approx(body["net_flows_btc"])
    assert body["assets"]["ETH"]["cost_basis_btc"] > 0
    part = client.get("/api/performance?start=2024-01-01&end=2024-12-31").get_json()
    assert part["series"][0]["date"] == "2024-01-01" and part["end"] == "2024-12-31"


@pytest.mark.parametrize(("query", "status"), [
    ("start=2024-12-31&end=2024-01-01", 400), ("start=2024-02-30", 400),
    ("end=31.12.2024", 400)])
def test_performance_bad_period_is_400(client, query, status):
    assert client.get(f"/api/performance?{query}").status_code == status


def test_performance_of_an_empty_ledger_is_422(empty):
    resp = empty[2].get("/api/performance")
    assert resp.status_code == 422 and "empty" in resp.get_json()["error"]


def test_holdings_api_writes_matching_entries(client, repo, settings):
    assert client.post("/api/holdings", json={"symbol": "ETH", "quantity": 6}).status_code == 201
    assert client.delete("/api/holdings/SOL").status_code == 200
    last = _entries(repo, settings)[-2:]
    assert [(e.type, e.subtype, e.asset, str(e.quantity)) for e in last] == [
        ("ADJUSTMENT", "correction", "ETH", "2"), ("WITHDRAWAL", None, "SOL", "40")]
    assert client.get("/api/portfolio").get_json()["assets"][0]  # still valued
    held = {a["symbol"]: a["quantity"] for a in client.get("/api/portfolio").get_json()["assets"]}
    assert held["ETH"] == 6.0 and "SOL" not in held


def test_performance_cache_follows_ledger_writes_and_price_corrections(client, repo, settings):
    import pandas as pd

    first = client.get("/api/performance").get_json()
    assert client.get("/api/performance").get_json() == first  # served again, same numbers
    client.post("/api/transactions", json={"date": "2025-08-01", "type": "DEPOSIT",
                                           "asset": "BTC", "quantity": 1})
    second = client.get("/api/performance").get_json()
    assert second["net_flows_btc"] == pytest.approx(first["net_flows_btc"] + 1)
    # A corrected close (a provider fixing a bar) changes the numbers too.
    bar = repo.load_prices(["ETH"]).iloc[[-1]].copy()
    bar["close"] = bar["close"] * 2
    repo.upsert_prices(bar.assign(ts=pd.to_datetime(bar["ts"], utc=True)))
    third = client.get("/api/performance").get_json()
    assert third["value_btc_end"] > second["value_btc_end"]


def test_performance_uses_the_configured_cost_basis_method(tmp_path):
    from settings import load_settings
    from tests.support.sample import ROOT

    settings = load_settings(ROOT / "config.yaml", {
        "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 's.db'}",
        "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"), "BTCFOLIO__LEDGER__COST_BASIS": "hifo"})
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
    body = create_app(settings, repo).server.test_client().get("/api/performance").get_json()
    assert body["cost_basis_method"] == "hifo"
    with pytest.raises(Exception, match="cost_basis"):
        load_settings(ROOT / "config.yaml", {"BTCFOLIO__LEDGER__COST_BASIS": "newest"})
