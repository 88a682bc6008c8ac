"""The app shell: redirect, JSON API on a seeded store, offline start as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest

from app import create_app
from tests.support.sample import ROOT, SAMPLE


@pytest.fixture
def client(settings, repo):
    return create_app(settings, repo).server.test_client()


def test_app_root_redirects_to_dashboard(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/portfolio/dashboard")


def test_app_dashboard_answers_200(client):
    assert client.get("/portfolio/dashboard").status_code == 200


def test_app_api_portfolio_matches_hand_computation_from_csv(client, settings):
    body = client.get("/api/portfolio").get_json()
    raw = pd.read_csv(SAMPLE)
    last = raw[raw.date == raw.date.max()].set_index("symbol")["close"]
    btc = last["BTC"]
    expected = {s: q * last[s] / btc for s, q in settings.portfolio.holdings.items()}
    assert body["as_of"] == "2025-08-13T00:00:00+00:00"
    assert set(body["holdings"]) == set(expected)
    for symbol, value in expected.items():
        assert body["holdings"][symbol] == pytest.approx(value, rel=1e-12)
    assert body["portfolio_value_btc"] == pytest.approx(sum(expected.values()), rel=1e-12)
    assert body["btc_allocation"] == pytest.approx(expected["BTC"] / sum(expected.values()))
    assert sum(a["weight"] for a in body["assets"]) == pytest.approx(1.0)
    assert {a["source"] for a in body["assets"]} == {"sample"}


def test_app_health_reports_store_cache_and_sources(client):
    body = client.get("/api/health").get_json()
    assert body["store"]["backend"] == "sqlite"
    assert body["store"]["prices"]["1d"] == len(pd.read_csv(SAMPLE))
    assert body["cache"]["backend"] == "filesystem"
    assert set(body["sources"]) == {"coingecko", "coinmarketcap", "alphavantage", "yahoo"}


def test_app_unknown_api_route_is_json_404(client):
    resp = client.get("/api/nope")
    assert resp.status_code == 404
    assert "error" in resp.get_json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_starts_offline_on_a_fresh_store_within_10s(tmp_path):
    port = _free_port()
    # No network: every provider points at a closed loopback port, so the embedded
    # scheduler's calls fail at once, as they would on a machine with no route out.
    closed = {f"BTCFOLIO__SOURCES__{name.upper()}__BASE_URL": "http://127.0.0.1:9"
              for name in ("coingecko", "coinmarketcap", "alphavantage", "yahoo")}
    env = {**os.environ, **closed, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        started, status = time.monotonic(), None
        while time.monotonic() - started < 10 and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/portfolio/dashboard", timeout=2) as r:
                    status = r.status
            except OSError:
                time.sleep(0.2)
        assert status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/portfolio", timeout=5) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
