"""``--demo`` is one feed: the scheduler stores simulated quotes, every reader shows them.

In process: the API, the page and the CSV show the same demo prices; a normal run ignores
them. Across processes: one ``python -m data.scheduler`` in demo mode and two app processes on
one store answer ``/api/portfolio`` with the same numbers, and no provider is asked for quotes.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from datetime import timedelta

from app import create_app
from data.providers.demo import DEMO_SOURCE, build_demo_job
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from tests.support.dash import csv_rows, header_value
from tests.support.fake_provider import FakeCoinGecko
from tests.support.processes import process_env, spawn, spawn_scheduler, stop, wait_for
from tests.support.sample import NOW, SAMPLE


def _client(settings, repo, now, *, demo: bool):
    settings = settings.model_copy(update={"demo": demo})
    return create_app(settings, repo, environ={}, clock=lambda: now).server.test_client()


def test_demo_prices_are_the_same_in_the_api_the_page_and_the_csv(settings, repo):
    job = build_demo_job(repo)
    for step in range(3):  # three scheduler runs, 30 s apart
        job(NOW + timedelta(seconds=30 * step))
    now = NOW + timedelta(seconds=75)
    client = _client(settings, repo, now, demo=True)
    body = client.get("/api/portfolio").get_json()
    assets = {a["symbol"]: a for a in body["assets"]}
    assert assets["ETH"]["source"] == DEMO_SOURCE and assets["SPY"]["source"] == DEMO_SOURCE
    assert body["as_of"] == (NOW + timedelta(seconds=60)).isoformat()
    header = header_value(client)
    assert header["portfolio-value-btc"]["children"] == f"₿{body['portfolio_value_btc']:,.8f}"
    rows = csv_rows(client)
    assert {s: r["value_btc"] for s, r in rows.items()} == {
        s: f"{a['value_btc']:.8f}" for s, a in assets.items()}
    rebalance = client.get("/api/rebalance?target_btc_pct=0.5").get_json()
    assert rebalance["before"] == body
    # The 24 h change compares with the stored closes of 24 h before (2025-08-12), not with
    # the walk's start (the 2025-08-13 closes).
    change = header["dashboard-change-24h"]["children"]
    assert change not in ("—", "0.00%")


def test_demo_far_after_the_stored_history_has_no_24h_reference(settings, repo):
    # A year after the sample ends there is no stored close of 24 h earlier: the change is
    # unknown ("—"), never the walk's drift since its start read as a 24 h move.
    later = NOW + timedelta(days=400)
    job = build_demo_job(repo)
    job(later)
    job(later + timedelta(seconds=30))
    client = _client(settings, repo, later + timedelta(seconds=40), demo=True)
    assert header_value(client)["dashboard-change-24h"]["children"] == "—"
    assert {a["stale"] for a in client.get("/api/portfolio").get_json()["assets"]} == {False}


def test_a_normal_run_ignores_stored_demo_quotes(settings, repo):
    build_demo_job(repo)(NOW)
    build_demo_job(repo)(NOW + timedelta(seconds=30))
    body = _client(settings, repo, NOW + timedelta(seconds=40), demo=False).get(
        "/api/portfolio").get_json()
    assert {a["source"] for a in body["assets"]} == {"sample"}
    assert body["as_of"] == "2025-08-13T00:00:00+00:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _portfolio(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/portfolio", timeout=5) as r:
            return json.loads(r.read())
    except OSError:
        return None


def _same_tick(ports: list[int]) -> list[dict]:
    """/api/portfolio of every app read within one demo tick (same as_of)."""
    for _ in range(20):
        bodies = [_portfolio(p) for p in ports]
        if all(bodies) and len({b["as_of"] for b in bodies}) == 1:
            return bodies
    raise AssertionError("the apps never answered within one demo tick")


def test_demo_two_app_processes_on_one_store_show_the_same_prices(tmp_path):
    fake = FakeCoinGecko().start()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    repo = Repository.from_url(url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, {"BTC": 0.5, "ETH": 4, "SPY": 10}, "default")
    env = process_env(tmp_path, fake.url, DATABASE_URL=url, BTCFOLIO__DEMO="true")
    procs, ports = [spawn_scheduler(env, tmp_path / "scheduler.log")], []
    try:
        for n in range(2):
            ports.append(_free_port())
            procs.append(spawn([sys.executable, "app.py", "--demo", "--port", str(ports[-1])],
                               env, tmp_path / f"app{n}.log"))
        wait_for(lambda: all((_portfolio(p) or {}).get("assets", [{}])[0].get("source")
                             == DEMO_SOURCE for p in ports), 60, "demo quotes in both apps")
        one, two = _same_tick(ports)
        assert one == two
        assert {a["source"] for a in one["assets"]} == {DEMO_SOURCE}
        wait_for(lambda: _same_tick(ports)[0]["as_of"] != one["as_of"], 20, "a new demo tick")
    finally:
        for proc in procs:
            stop(proc)
        fake.stop()
    quotes = repo.load_quotes()
    assert set(quotes["source"]) == {DEMO_SOURCE}
    assert set(repo.load_prices()["source"]) <= {"sample", "coingecko"}  # never a demo close
    assert fake.calls()["quotes"] == 0  # demo mode asks no provider for quotes
