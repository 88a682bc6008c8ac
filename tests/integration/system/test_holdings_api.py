"""POST /api/holdings and DELETE /api/holdings/<symbol> on a seeded store."""

from __future__ import annotations

import pytest

from app import create_app


@pytest.fixture
def client(settings, repo):
    return create_app(settings, repo).server.test_client()


def test_post_holding_stores_it_and_answers_201(client, repo, settings):
    resp = client.post("/api/holdings", json={"symbol": "SLV", "quantity": 10})
    assert resp.status_code == 201
    assert resp.get_json() == {"symbol": "SLV", "quantity": 10.0, "backfill": None}
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 10.0
    # The dashboard's valuation now includes it.
    assert "SLV" in client.get("/api/portfolio").get_json()["holdings"]


def test_post_holding_replaces_an_existing_quantity(client, repo, settings):
    assert client.post("/api/holdings", json={"symbol": "btc", "quantity": 2}).status_code == 201
    assert repo.load_holdings(settings.portfolio.name)["BTC"] == 2.0


@pytest.mark.parametrize("body", [
    {"symbol": "SLV", "quantity": -1}, {"symbol": "SLV", "quantity": 0},
    {"symbol": "SLV", "quantity": "10"}, {"symbol": "SLV", "quantity": True},
    {"symbol": "SLV", "quantity": 1e13}, {"symbol": "SLV"}, {"symbol": "DOGE", "quantity": 1},
    {"symbol": 5, "quantity": 1}, {"symbol": "SLV", "quantity": 1, "admin": True},
    ["SLV", 1], "SLV",
])
def test_post_holding_bad_input_is_400_and_stores_nothing(client, repo, settings, body):
    before = repo.load_holdings(settings.portfolio.name)
    resp = client.post("/api/holdings", json=body)
    assert resp.status_code == 400
    assert "error" in resp.get_json()
    assert repo.load_holdings(settings.portfolio.name) == before


@pytest.mark.parametrize("raw", [b"{not json", b'{"symbol": "SLV", "quantity": NaN}',
                                 b'{"symbol": "SLV", "quantity": 1e999}', b"\xff\xfe"])
def test_post_holding_malformed_or_non_finite_json_is_400(client, repo, settings, raw):
    before = repo.load_holdings(settings.portfolio.name)
    resp = client.post("/api/holdings", data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert repo.load_holdings(settings.portfolio.name) == before


def test_post_holding_oversized_body_is_413(client, repo, settings):
    before = repo.load_holdings(settings.portfolio.name)
    body = b'{"symbol": "SLV", "quantity": 1, "pad": "' + b"x" * 10_000 + b'"}'
    resp = client.post("/api/holdings", data=body, content_type="application/json")
    assert resp.status_code == 413
    assert "error" in resp.get_json()
    assert repo.load_holdings(settings.portfolio.name) == before


def test_delete_holding(client, repo, settings):
    resp = client.delete("/api/holdings/ETH")
    assert resp.status_code == 200 and resp.get_json() == {"removed": "ETH"}
    assert "ETH" not in repo.load_holdings(settings.portfolio.name)
    assert client.delete("/api/holdings/ETH").status_code == 404  # no longer held
    assert client.delete("/api/holdings/DOGE").status_code == 404  # not in the universe


def test_post_holding_requires_a_json_content_type(client, repo, settings):
    before = repo.load_holdings(settings.portfolio.name)
    resp = client.post("/api/holdings", data='{"symbol": "SLV", "quantity": 1}',
                       content_type="text/plain")
    assert resp.status_code == 415
    assert repo.load_holdings(settings.portfolio.name) == before
