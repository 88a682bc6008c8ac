"""Bounded asyncio load client: simulated dashboard sessions against a running btcfolio.

A session is one browser tab: it loads the page (index, ``/_dash-layout``,
``/_dash-dependencies``, the pages routing callback, the page's initial callbacks), then on
every tick of the dashboard's ``dcc.Interval`` it posts what the renderer posts: every callback
the interval triggers (before issue 17 ``update_dashboard``, ``update_rebalance`` and
``update_history_fill``; after it ``update_dashboard`` alone), each with the State the
previous responses left behind (``benchmarks.dash_client``).

Latency of a tick request is measured from the tick's *scheduled* time, so a client or server
falling behind shows up as latency instead of silently lowering the offered load.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np

from benchmarks.dash_client import (
    INTERVAL,
    Callback,
    DashSession,
    ProtocolError,
    full_render,
    is_refresh,
    parse_clientside,
    parse_dependencies,
)

DASHBOARD_PATH = "/portfolio/dashboard"
SNAPSHOT = ("dashboard-snapshot", "data")
BANNER = ("dashboard-status-banner", "children")
VALUE = ("portfolio-value-btc", "children")
PAGES_CONTENT = ("_pages_content", "children")
LOCATION = "_pages_location"
TARGET_P95_MS = 100.0


class CallbackError(Exception):
    """A 200 answer that is not a good refresh (no valuation, or the error banner)."""


@dataclass
class Stats:
    """Latencies (s) per request kind, and errors with a few sample messages."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # (kind, HTTP status) of good answers

    def ok(self, kind: str, seconds: float, status: int = 200) -> None:
        """Record a good answer: its latency, and its HTTP status under the request kind."""
        self.latencies[kind].append(seconds)
        self.statuses[(kind, status)] += 1

    def error(self, kind: str, seconds: float, message: str) -> None:
        """Record a failed request: its latency counts too, and the first 5 messages are kept."""
        self.latencies[kind].append(seconds)
        self.errors[kind] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {message}")

    def summary(self, kinds: Sequence[str] | None = None) -> dict[str, Any]:
        """requests, errors, p50/p95/p99/max in ms over ``kinds`` (default: every kind)."""
        kinds = list(self.latencies) if kinds is None else kinds
        values = np.array([v for k in kinds for v in self.latencies.get(k, [])]) * 1000
        errors = sum(self.errors.get(k, 0) for k in kinds)
        if not len(values):
            return {"requests": 0, "errors": errors}
        p50, p95, p99 = (float(p) for p in np.percentile(values, [50, 95, 99]))
        return {"requests": int(len(values)), "errors": int(errors), "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1), "p99_ms": round(p99, 1),
                "max_ms": round(float(values.max()), 1)}


def check_refresh(session: DashSession, updates: dict[str, dict[str, Any]]) -> None:
    """A refresh answer must leave the tab with a valuation and without the error banner.

    Read from the props after the answer (and the page's clientside callbacks) applied, so it
    holds for either refresh protocol: the portfolio value shows (₿ or sats) and the status
    banner is not the red "Cannot value the portfolio".
    """
    del updates  # the props already hold the answer
    banner = session.props.get(BANNER)
    if isinstance(banner, dict) and banner.get("props", {}).get("color") == "danger":
        raise CallbackError(f"error banner: {banner['props'].get('children')!r:.120}")
    value = session.props.get(VALUE)
    if not isinstance(value, str) or not any(ch.isdigit() for ch in value):
        raise CallbackError(f"the tab shows no portfolio value ({value!r:.60})")


class Client:
    """One aiohttp connection pool shared by every simulated tab, and the stats they record."""

    def __init__(self, base_url: str, *, connections: int = 256,
                 request_timeout: float = 30.0, keepalive_seconds: float = 3.0) -> None:
        self.base = base_url.rstrip("/")
        self.stats = Stats()
        self._connections, self._timeout = connections, request_timeout
        self._keepalive = keepalive_seconds
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        self._http = aiohttp.ClientSession(
            # Idle connections are dropped by the client before the server's keep-alive (5 s in
            # gunicorn.conf.py) would close them under a request being sent, as browsers do.
            connector=aiohttp.TCPConnector(limit=self._connections,
                                           keepalive_timeout=self._keepalive),
            timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.close()

    async def _page_get(self, path: str, stats: Stats) -> Any:
        start = time.perf_counter()
        try:
            async with self._http.get(self.base + path) as answer:
                body = await answer.read()
                if answer.status != 200:
                    raise ProtocolError(f"GET {path}: HTTP {answer.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError, ProtocolError) as exc:
            stats.error("page", time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
            raise
        stats.ok("page", time.perf_counter() - start)
        return body

    async def call(self, session: DashSession, cb: Callback, changed: list, *, kind: str,
                   started: float, stats: Stats | None = None) -> bool:
        """POST one callback as the renderer would, apply the answer; record it. True if ok.

        ``started`` is a ``time.perf_counter()`` instant (the scheduled tick for refreshes).
        """
        stats = stats or self.stats
        try:
            async with self._http.post(self.base + "/_dash-update-component",
                                       json=session.body(cb, changed)) as answer:
                status, payload = answer.status, await answer.read()
            if status not in (200, 204):
                raise ProtocolError(f"HTTP {status}: {payload[:120]!r}")
            updates = session.apply(cb, status, payload)
            if is_refresh(cb):
                check_refresh(session, updates)
                if full_render(updates):  # the server did not know the tab's view
                    stats.statuses[(kind, "full")] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, ProtocolError, CallbackError) as exc:
            stats.error(kind, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            return False
        stats.ok(kind, time.perf_counter() - started, status)
        return True

    async def open_tab(self, stats: Stats | None = None) -> DashSession | None:
        """Load the dashboard like a browser; None if any page-load request failed.

        Records each request as kind "page" and the whole load (first request to the last
        initial callback applied) as kind "tab".
        """
        stats = stats or self.stats
        started = time.perf_counter()
        session = await self._load(stats)
        if session is None:
            stats.error("tab", time.perf_counter() - started, "a page-load request failed")
            return None
        stats.ok("tab", time.perf_counter() - started)
        session.prune(INTERVAL)
        return session

    async def _load(self, stats: Stats) -> DashSession | None:
        try:
            await self._page_get(DASHBOARD_PATH, stats)
            layout = await self._page_get("/_dash-layout", stats)
            deps = await self._page_get("/_dash-dependencies", stats)
        except (aiohttp.ClientError, asyncio.TimeoutError, ProtocolError):
            return None
        deps = json.loads(deps)
        session = DashSession(json.loads(layout), parse_dependencies(deps),
                              parse_clientside(deps))
        # dcc.Location sets these on mount; that fires the pages routing callback.
        session.props.update({(LOCATION, "pathname"): DASHBOARD_PATH, (LOCATION, "search"): "",
                              (LOCATION, "hash"): "", (LOCATION, "href"): self.base
                              + DASHBOARD_PATH})
        routing = session.callback_for(PAGES_CONTENT)
        changed = [(LOCATION, "pathname"), (LOCATION, "search")]
        if not await self.call(session, routing, changed, kind="page",
                               started=time.perf_counter(), stats=stats):
            return None
        results = await asyncio.gather(*(
            self.call(session, cb, [], kind="page", started=time.perf_counter(), stats=stats)
            for cb in session.initial_callbacks()))
        return session if all(results) else None

    async def tick(self, session: DashSession, started: float,
                   stats: Stats | None = None) -> bool:
        """One interval tick: n_intervals + 1, then every callback it triggers, concurrently."""
        session.props[INTERVAL] = (session.props.get(INTERVAL) or 0) + 1
        callbacks = [cb for cb in session.callbacks if cb.triggered_by(INTERVAL)]
        results = await asyncio.gather(*(
            self.call(session, cb, [INTERVAL], started=started, stats=stats,
                      kind="refresh" if is_refresh(cb) else "tick-other")
            for cb in callbacks))
        return all(results)


async def _sleep_until(instant: float) -> None:
    delay = instant - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def open_tabs(client: Client, count: int, concurrency: int,
                    stats: Stats | None = None) -> list[DashSession]:
    """Open ``count`` tabs, at most ``concurrency`` page loads at a time; the loaded tabs.

    Page loads are kept apart from the refresh rounds: a first load renders the history and
    correlation figures (hundreds of ms of CPU each), which would otherwise be the thing measured.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one() -> DashSession | None:
        async with gate:
            return await client.open_tab(stats)

    tabs = await asyncio.gather(*(one() for _ in range(count)))
    return [t for t in tabs if t is not None]


async def sequential(client: Client, tab: DashSession, ticks: int, stats: Stats) -> None:
    """One tab, ticks back to back: the service time with nothing else of ours in the queue."""
    for _ in range(ticks):
        await client.tick(tab, time.perf_counter(), stats)


async def steady(client: Client, tabs: Sequence[DashSession], interval: float, rounds: int,
                 stats: Stats | None = None) -> None:
    """Every tab ticks every ``interval`` s for ``rounds`` rounds, starts spread over one interval.

    A tab ticks sequentially (the next tick waits for the previous answers, as a renderer
    with a callback in flight does); a late tick's latency still counts from its schedule.
    """
    t0 = time.perf_counter()

    async def one(index: int, tab: DashSession) -> None:
        start = t0 + index * interval / len(tabs)
        for k in range(rounds):
            scheduled = start + k * interval
            await _sleep_until(scheduled)
            await client.tick(tab, scheduled, stats)

    await asyncio.gather(*(one(i, tab) for i, tab in enumerate(tabs)))


async def open_rate(client: Client, tabs: Sequence[DashSession], rate: float,
                    seconds: float, stats: Stats) -> None:
    """Open loop: ``rate`` ticks/s for ``seconds``, round-robin over the tabs.

    Ticks are started on schedule whether or not earlier ones have answered (a browser's
    interval does not wait either); in-flight requests are bounded by the connection pool.
    """
    count = max(1, round(rate * seconds))
    t0 = time.perf_counter()
    tasks = []
    for j in range(count):
        scheduled = t0 + j / rate
        await _sleep_until(scheduled)
        tasks.append(asyncio.ensure_future(client.tick(tabs[j % len(tabs)], scheduled, stats)))
    await asyncio.gather(*tasks)


def saturated(summary: dict[str, Any], limit_ms: float = 1000.0) -> bool:
    """Errors, or a p95 so far over the target that higher rates only grow the queue."""
    return bool(summary.get("requests", 0) == 0 or summary["errors"] > 0
                or summary["p95_ms"] > limit_ms)


def step_passes(summary: dict[str, Any]) -> bool:
    """0 errors and p95 within the target."""
    return bool(summary.get("requests", 0) > 0 and summary["errors"] == 0
                and summary["p95_ms"] <= TARGET_P95_MS)
