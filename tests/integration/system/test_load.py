"""The load client against real gunicorn workers: 30 tabs, two refresh rounds, no errors.

The same code as ``python -m benchmarks.load`` (which measures 200 sessions and the burst); here
only correctness under concurrency is asserted: every page load and every refresh answered and
applied like a browser would, and every tab ends holding the store's valuation. No timing
assertion; the timeouts are generous for a busy 2-core CI machine.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request

from benchmarks.dash_client import INTERVAL
from benchmarks.load_client import SNAPSHOT, Client, Stats, open_tabs, steady
from benchmarks.load_server import ROOT, gunicorn, seed, server_env
from components.format import fmt_btc

SESSIONS, ROUNDS = 30, 2


async def _drive(base: str) -> tuple[Stats, Stats, list]:
    # 60 s per request: a refresh queued behind 30 page loads on a loaded machine still answers.
    async with Client(base, request_timeout=60) as client:
        opened, refreshed = Stats(), Stats()
        tabs = await open_tabs(client, SESSIONS, concurrency=4, stats=opened)
        # A refresh in the same wall-clock second as the page load changes nothing (the "last
        # updated" text has 1 s resolution) and is answered 204; start a second later.
        await asyncio.sleep(1.1)
        await steady(client, tabs, interval=2.0, rounds=ROUNDS, stats=refreshed)
        return opened, refreshed, tabs


def test_30_sessions_refresh_without_errors_and_hold_the_valuation(tmp_path):
    with gunicorn(tmp_path) as base:
        opened, refreshed, tabs = asyncio.run(asyncio.wait_for(_drive(base), timeout=240))
        with urllib.request.urlopen(f"{base}/api/portfolio", timeout=30) as answer:
            portfolio = json.load(answer)

    assert opened.samples == [] and refreshed.samples == []
    assert sum(opened.errors.values()) == 0 and sum(refreshed.errors.values()) == 0
    assert len(tabs) == SESSIONS
    # A refresh more than 1 s after the previous one is a 200 carrying at least the "last
    # updated" time; a late tick in its predecessor's second may be dash's 204 "nothing changed".
    refreshes = refreshed.statuses[("refresh", 200)] + refreshed.statuses[("refresh", 204)]
    assert refreshes == SESSIONS * ROUNDS
    assert refreshed.statuses[("refresh", 200)] >= SESSIONS  # every first tick is > 1 s later
    # Every other callback the interval fires was posted and answered on every tick too.
    others = sum(1 for cb in tabs[0].callbacks if cb.triggered_by(INTERVAL)) - 1
    assert len(refreshed.latencies["tick-other"]) == others * SESSIONS * ROUNDS
    expected_value = fmt_btc(portfolio["portfolio_value_btc"])
    for tab in tabs:
        # Applied round after round (patches, deltas, clientside callbacks), the tab shows the
        # JSON API's valuation.
        assert tab.props[("portfolio-value-btc", "children")] == expected_value
        assert tab.props[INTERVAL] == ROUNDS
        snapshot = tab.props.get(SNAPSHOT)
        if snapshot is not None:  # the snapshot protocol (before issue 17) keeps one per tab
            assert snapshot["header"]["value"] == expected_value
            assert set(snapshot["prices_btc"]) == set(portfolio["holdings"])


def test_the_gunicorn_entry_point_sets_dash_up_before_the_first_request(tmp_path):
    # Concurrent first requests to a fresh threaded worker raced dash's lazy setup (500s:
    # "Callback function not found", plotly/dash#3971); `app:server` now does it eagerly.
    env = server_env(tmp_path)
    seed(env)
    code = ("import dash, app; app.server; "
            "print(len(dash.get_app().callback_map), dash.get_app()._got_first_request)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout.split("\n")[-2]
    callbacks = int(out.split()[0])
    assert callbacks >= 5, out
    assert "'setup_server': True" in out
