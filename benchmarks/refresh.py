"""Refresh callback server time (p50, p95) and bytes per refresh, through the real HTTP route.

Measured path: Flask's test client POSTs to ``/_dash-update-component`` exactly what the
browser sends on an interval tick: the callback's outputs, its inputs (n_intervals, the sats
switch, the holdings version) and the snapshot State, which is the store's data after the
previous response was applied (this module applies the returned delta as the page's
clientside callback does).
Server time = the POST round trip in-process: routing, JSON decoding, ``update_dashboard``
(store reads via queries/dashboard.load_dashboard, components/dashboard_view) and JSON
encoding of the response. No network, no gzip.

Time is simulated: each tick advances a clock by 30 s (the app's clock, ``create_app(clock=)``), and
before every tick the scheduler's quote job is simulated (``dataset.quote_tick``, untimed) with
quotes 0-29 s old, so each refresh sees new prices, a new "Updated" time and new price ages,
as in production.

Baseline: ``naive.naive_refresh`` on the same store at the same tick.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks import naive
from benchmarks.common import Result, median, pct, ratio, timed
from benchmarks.dataset import BenchStore, build_store, quote_tick
from components import ids
from components.dashboard_view import apply_delta

UPDATE_URL = "/_dash-update-component"


def refresh_spec(client) -> dict:  # noqa: ANN001 - flask test client
    """The dashboard's refresh callback as the renderer sees it (/_dash-dependencies)."""
    deps = client.get("/_dash-dependencies").get_json()
    for dep in deps:
        if (f"{ids.SNAPSHOT_STORE}.data" in dep["output"]
                and any(i["id"] == ids.REFRESH_INTERVAL for i in dep["inputs"])):
            return dep
    raise LookupError("no refresh callback in /_dash-dependencies")


def _outputs(spec: dict) -> list[dict]:
    # "..a.children...b.className.." -> [{"id": "a", "property": "children"}, ...]
    parts = spec["output"].strip(".").split("...")
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


def payload(spec: dict, tick: int, snapshot: dict | None) -> dict:
    """The request body of one interval tick."""
    values = {ids.REFRESH_INTERVAL: tick, ids.SATS_TOGGLE: False, ids.HOLDINGS_VERSION: None}
    return {
        "output": spec["output"],
        "outputs": _outputs(spec),
        "inputs": [{**i, "value": values[i["id"]]} for i in spec["inputs"]],
        "changedPropIds": [f"{ids.REFRESH_INTERVAL}.n_intervals"],
        "state": [{**s, "value": snapshot} for s in spec["state"]],
    }


def next_snapshot(previous: dict | None, body: dict) -> dict | None:
    """The snapshot store's data after the browser applied a response.

    A full render sends the snapshot; a steady refresh sends the delta, which the page's
    clientside callback merges into the snapshot (``dashboard_view.apply_delta`` here).
    """
    response = body["response"]
    full = response.get(ids.SNAPSHOT_STORE, {}).get("data")
    if full is not None:
        return full
    delta = response.get(ids.LIVE_DELTA, {}).get("data")
    return previous if delta is None else apply_delta(previous, delta)


class Session:
    """One browser session against an app on a benchmark store."""

    def __init__(self, store: BenchStore) -> None:
        from app import create_app  # builds the app on this store (services.init)

        self.store = store
        self.clock = datetime.now(timezone.utc)
        # The app reads the simulated clock through its one clock seam.
        self.app = create_app(store.settings, store.repo, clock=lambda: self.clock)
        self.client = self.app.server.test_client()
        self.spec = refresh_spec(self.client)
        self.snapshot: dict | None = None
        self.tick = 0

    def _advance(self) -> datetime:
        """Move the clock one refresh on and store the quotes fetched since (untimed)."""
        self.clock += timedelta(seconds=30)
        quote_tick(self.store, self.tick, self.clock - timedelta(seconds=self.tick * 11 % 30))
        return self.clock

    def refresh(self) -> tuple[float, int, int]:
        """One tick: new quotes (untimed), then the timed POST; -> ms, response, request bytes."""
        self._advance()
        body = json.dumps(payload(self.spec, self.tick, self.snapshot))
        ms, resp = timed(lambda: self.client.post(UPDATE_URL, data=body,
                                                  content_type="application/json"))
        if resp.status_code != 200:
            raise RuntimeError(f"refresh answered {resp.status_code}: {resp.data[:300]!r}")
        self.snapshot = next_snapshot(self.snapshot, resp.get_json())
        self.tick += 1
        return ms, len(resp.data), len(body.encode())

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
