"""Refresh callback server time (p50, p95) and bytes per refresh, through the real HTTP route.

Measured path: Flask's test client POSTs to ``/_dash-update-component`` exactly what the
browser sends on an interval tick for the dashboard's refresh callback (``update_dashboard``):
the body is built from ``/_dash-dependencies`` and the props the tab holds by
``benchmarks.dash_client.DashSession`` (a model of the dash renderer), after the page was routed
to the dashboard like ``dcc.Location`` does. Each answer is applied as the browser applies it,
including the page's clientside callbacks (``dash_client.apply_clientside``), so the next tick
sends what a browser would: the merged snapshot State before issue 17, the view key after it.
Server time = the POST round trip in-process: routing, JSON decoding, ``update_dashboard``
(store reads via queries/dashboard.load_dashboard, components/dashboard_view) and JSON
encoding of the response. No network, no compression. The other callbacks a tick may fire are
not timed here (the browser benchmark ``wire.py`` and the load test count every request).

Time is simulated: each tick advances a clock by 30 s (the app's clock, ``create_app(clock=)``), and
before every tick the scheduler's quote job is simulated (``dataset.quote_tick``, untimed) with
quotes 0-29 s old, so each refresh sees new prices, a new "Updated" time and new price ages,
as in production.

Baseline: ``naive.naive_refresh`` on the same store at the same tick.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import naive
from benchmarks.common import Result, median, pct, ratio, timed
from benchmarks.dash_client import (
    INTERVAL,
    Callback,
    DashSession,
    is_refresh,
    parse_clientside,
    parse_dependencies,
)
from benchmarks.dataset import BenchStore, build_store, quote_tick

UPDATE_URL = "/_dash-update-component"
DASHBOARD = "/portfolio/dashboard"
LOCATION = "_pages_location"
PAGES_CONTENT = ("_pages_content", "children")
# (path, JSON body bytes) -> (HTTP status, response bytes)
Post = Callable[[str, bytes], tuple[int, bytes]]


class RefreshTab:
    """One browser tab on the dashboard, over any HTTP transport (test client or real socket)."""

    def __init__(self, get_json: Callable[[str], Any], post: Post) -> None:
        self.post = post
        deps = get_json("/_dash-dependencies")
        self.tab = DashSession(get_json("/_dash-layout"), parse_dependencies(deps),
                               parse_clientside(deps))
        # dcc.Location sets these on mount; the pages routing callback renders the page.
        self.tab.props.update({(LOCATION, "pathname"): DASHBOARD, (LOCATION, "search"): "",
                               (LOCATION, "hash"): "", (LOCATION, "href"): DASHBOARD})
        routing = self.tab.callback_for(PAGES_CONTENT)
        self.send(routing, [(LOCATION, "pathname"), (LOCATION, "search")])
        self.refresh_cb = next(cb for cb in self.tab.callbacks if is_refresh(cb))

    def send(self, cb: Callback, changed: list) -> tuple[int, bytes, bytes]:
        """POST one callback and apply its answer; -> status, response, request body."""
        body = json.dumps(self.tab.body(cb, changed)).encode()
        status, data = self.post(UPDATE_URL, body)
        if status not in (200, 204):
            raise RuntimeError(f"callback answered {status}: {data[:300]!r}")
        self.tab.apply(cb, status, data)
        return status, data, body

    def tick_body(self, tick: int) -> bytes:
        """The request body of interval tick ``tick`` (n_intervals set, as the interval does)."""
        self.tab.props[INTERVAL] = tick
        return json.dumps(self.tab.body(self.refresh_cb, [INTERVAL])).encode()

    def value(self) -> Any:
        """The portfolio value the tab shows."""
        return self.tab.props.get(("portfolio-value-btc", "children"))


class Session:
    """One browser session against an app on a benchmark store."""

    def __init__(self, store: BenchStore) -> None:
        from app import create_app  # builds the app on this store (services.init)

        self.store = store
        self.clock = datetime.now(timezone.utc)
        # The app reads the simulated clock through its one clock seam.
        self.app = create_app(store.settings, store.repo, clock=lambda: self.clock)
        self.client = self.app.server.test_client()
        self.tab = RefreshTab(lambda path: self.client.get(path).get_json(), self._post)
        self.tick = 0

    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        resp = self.client.post(path, data=body, content_type="application/json")
        return resp.status_code, resp.data

    def _advance(self) -> datetime:
        """Move the clock one refresh on and store the quotes fetched since (untimed)."""
        self.clock += timedelta(seconds=30)
        quote_tick(self.store, self.tick, self.clock - timedelta(seconds=self.tick * 11 % 30))
        return self.clock

    def refresh(self) -> tuple[float, int, int]:
        """One tick: new quotes (untimed), then the timed POST; -> ms, response, request bytes."""
        self._advance()
        body = self.tab.tick_body(self.tick)
        ms, (status, data) = timed(lambda: self._post(UPDATE_URL, body))
        if status not in (200, 204):
            raise RuntimeError(f"refresh answered {status}: {data[:300]!r}")
        self.tab.tab.apply(self.tab.refresh_cb, status, data)
        self.tick += 1
        return ms, len(data), len(body)

    def naive(self) -> tuple[float, dict]:
        """The baseline on the same store and quotes (untimed quote tick first)."""
        now = self._advance()
        holdings = self.store.repo.load_holdings(self.store.settings.portfolio.name)
        return timed(lambda: naive.naive_refresh(self.store.repo, holdings, now))


def agreement(session: Session) -> float:
    """Largest relative difference between the naive and the real numbers at this tick.

    Compares each holding's BTC value, the total and the 24 h change that the dashboard
    computes (queries/dashboard.load_dashboard) with ``naive.naive_refresh``.
    """
    from components.dashboard_view import portfolio_change_24h
    from queries.context import ReadContext
    from queries.dashboard import load_dashboard

    now = session._advance()
    real = load_dashboard(ReadContext(session.store.repo, session.store.settings, now))
    holdings = session.store.repo.load_holdings(session.store.settings.portfolio.name)
    base = naive.naive_refresh(session.store.repo, holdings, now)
    values = dict(zip(real.valuation.assets["symbol"], real.valuation.assets["value_btc"],
                      strict=True))
    if set(values) != set(base["values_btc"]):
        return float("inf")
    pairs = [(values[s], base["values_btc"][s]) for s in values]
    pairs.append((real.valuation.total_btc, base["total_btc"]))
    change, _left_out = portfolio_change_24h(real.valuation, real.prices_btc_24h)
    if (change is None) != (base["change_24h"] is None):
        return float("inf")
    if change is not None:
        pairs.append((1 + change, 1 + base["change_24h"]))
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in pairs)


def measure(n_assets: int, *, runs: int, ticks: int, workdir: Path) -> dict:
    """Per run: ``ticks`` real refreshes and ``ticks`` naive ones, interleaved; medians of runs."""
    session = Session(build_store(workdir / f"refresh{n_assets}", n_assets))
    first_ms, first_bytes, _ = session.refresh()  # full render (previous snapshot: none)
    real50, real95, base50, base95, sizes, requests = [], [], [], [], [], []
    for _ in range(runs):
        real, base = [], []
        for _ in range(ticks):
            ms, size, request = session.refresh()
            real.append(ms)
            sizes.append(size)
            requests.append(request)
            base.append(session.naive()[0])
        real50.append(pct(real, 50))
        real95.append(pct(real, 95))
        base50.append(pct(base, 50))
        base95.append(pct(base, 95))
    diff = agreement(session)
    if not diff < 1e-9:
        raise RuntimeError(f"naive and real refresh disagree (relative difference {diff})")
    return {"p50": median(real50), "p95": median(real95), "base_p50": median(base50),
            "base_p95": median(base95), "bytes": median(sizes), "full_bytes": first_bytes,
            "request_bytes": median(requests), "first_ms": first_ms}


# (assets, p50 target ms, runs, ticks per run); the quick mode leaves 1,000 assets out.
SIZES = ((10, 10.0, 5, 20), (200, 50.0, 5, 20), (1000, 100.0, 3, 10))


def results(*, quick: bool, workdir: Path | None = None) -> list[Result]:
    """Refresh figures at 10, 200 and 1,000 assets, and bytes per steady-state refresh at 10."""
    out: list[Result] = []
    sizes = [(n, target, 1, 5) for n, target, _, _ in SIZES[:2]] if quick else SIZES
    with tempfile.TemporaryDirectory() as tmp:
        root = workdir or Path(tmp)
        for n, target, runs, ticks in sizes:
            m = measure(n, runs=runs, ticks=ticks, workdir=root)
            out.append(Result(f"refresh p50, {n} assets", round(m["p50"], 3), "ms",
                              round(m["base_p50"], 3), ratio(m["p50"], m["base_p50"]),
                              f"<= {target:g} ms", m["p50"] <= target))
            out.append(Result(f"refresh p95, {n} assets", round(m["p95"], 3), "ms",
                              round(m["base_p95"], 3), ratio(m["p95"], m["base_p95"]),
                              "(reported)", True))
            if n == 10:
                kb, full_kb = m["bytes"] / 1024, m["full_bytes"] / 1024
                out.append(Result("bytes per refresh, 10 assets", round(kb, 3), "KB",
                                  round(full_kb, 3), ratio(kb, full_kb), "<= 3 KB", kb <= 3.0))
                out.append(Result("request bytes per refresh, 10 assets",
                                  round(m["request_bytes"] / 1024, 3), "KB", None, None,
                                  "(reported)", True))
    return out
