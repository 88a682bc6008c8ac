"""Bytes per refresh tick and per first render, on the wire, in headless chromium (issue 17).

The app runs as production runs it (``gunicorn -c gunicorn.conf.py``, ``benchmarks.load_server``)
on a benchmark store of 10 or 200 assets (``benchmarks.dataset``); a real chromium loads the
dashboard and its DevTools network log (selenium's performance log) gives every request's
bytes (``benchmarks.netlog``). Figures:

* **per steady tick**, every request the refresh interval causes together (all callbacks it
  fires and anything chained to them): body bytes uploaded, bytes downloaded on the wire
  (``encodedDataLength``: response headers + compressed body) and decoded. The server runs with
  a short refresh interval (``BTCFOLIO__REFRESH__INTERVAL_SECONDS``); the page is left to settle
  for two ticks, then ``ticks`` ticks are recorded; medians over ticks. While it runs, this
  process plays the scheduler's quote job (``dataset.quote_tick``, twice per interval), so every
  tick sees every price moved, the most a tick can carry.
* **first render**, warm cache: the page is loaded once (static assets in the browser's cache,
  as for a returning user), the tab goes to about:blank, and the page is loaded again; the
  figure is the sum of ``encodedDataLength`` of every request of that second load until the
  network is idle (document, layout, dependencies, every initial callback, cache revalidations).
  That server's interval is an hour, so no tick mixes in. The cold load (empty cache, the JS
  bundles included) is reported too.

Baseline (same run, same server, same store): the same browser sending
``Accept-Encoding: identity`` (DevTools ``Network.setExtraHTTPHeaders``), i.e. the same page
with compression off. ``LEGACY_ENV`` (empty: no switch in the app) would add a server with the
previous protocol as the upload baseline.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import netlog
from benchmarks.common import Result, ratio
from benchmarks.dataset import BenchStore, build_store, quote_tick
from benchmarks.load_server import ServerSpec, gunicorn
from components import ids

DASHBOARD = "/portfolio/dashboard"
RENDERED = "#portfolio-value-btc"   # its text starts with ₿ once the first refresh answered
IDENTITY = "identity"
LEGACY_ENV: dict[str, str] = {}     # server env of the previous protocol, if the app had a switch
KB = 1024.0


def chrome(accept_encoding: str | None = None) -> Any:
    """Headless chromium with the performance (DevTools) log; optionally a fixed Accept-Encoding."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(os.environ.get("SE_CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    if accept_encoding:
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                               {"headers": {"Accept-Encoding": accept_encoding}})
    return driver


class Recorder:
    """Drains the browser's performance log into one list (get_log empties it on every call)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.entries: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        """All performance-log entries so far (``get_log`` empties the browser's buffer)."""
        self.entries.extend(self.driver.get_log("performance"))
        return self.entries

    def reset(self) -> None:
        """Forget what was logged so far: the next ``requests()`` sees only what follows."""
        self.drain()
        self.entries = []

    def requests(self) -> list[netlog.Request]:
        """The HTTP requests in the log so far, with POST bodies fetched from DevTools."""
        def fetch_post(rid: str) -> str | None:
            with contextlib.suppress(Exception):  # the request may be gone from DevTools
                return self.driver.execute_cdp_cmd("Network.getRequestPostData",
                                                   {"requestId": rid})["postData"]
            return None

        return netlog.requests(self.drain(), interval_id=ids.REFRESH_INTERVAL,
                               fetch_post=fetch_post)

    def wait_idle(self, quiet: float = 1.5, timeout: float = 120.0) -> None:
        """Until every request has finished and none started for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            reqs = netlog.requests(self.drain(), interval_id=ids.REFRESH_INTERVAL)
            if len(reqs) != seen or any(not (r.finished or r.failed) for r in reqs):
                seen, since = len(reqs), time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.25)
        raise TimeoutError("the page's network did not go idle")


def load_page(driver: Any, recorder: Recorder, url: str, timeout: float = 120.0) -> None:
    """Open the dashboard and wait until the portfolio value shows and the network is idle."""
    from selenium.common.exceptions import TimeoutException

    driver.get(url)
    deadline = time.monotonic() + timeout
    while True:
        try:  # a busy page (or a starved browser) may not answer a script in time: ask again
            if driver.execute_script(f"const e = document.querySelector('{RENDERED}');"
                                     " return !!e && e.textContent.startsWith('₿');"):
                break
        except TimeoutException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}: the portfolio value never showed")
        time.sleep(0.25)
    recorder.wait_idle(timeout=timeout)


def first_render(base: str, accept_encoding: str | None) -> dict[str, float]:
    """Bytes of a cold and of a warm-cache load of the dashboard (sums over all requests)."""
    driver = chrome(accept_encoding)
    try:
        recorder = Recorder(driver)
        load_page(driver, recorder, base + DASHBOARD)
        cold = netlog.totals(recorder.requests())
        driver.get("about:blank")
        recorder.reset()
        load_page(driver, recorder, base + DASHBOARD)
        warm = netlog.totals(recorder.requests())
    finally:
        driver.quit()
    return {"cold_wire": cold["wire"], "warm_wire": warm["wire"], "warm_body": warm["body"],
            "warm_requests": warm["requests"]}


@contextlib.contextmanager
def quote_feed(store: BenchStore, period: float) -> Iterator[None]:
    """Write a round of quotes every ``period`` s in a thread (the scheduler's quote job)."""
    stop = threading.Event()

    def run() -> None:
        tick = 0
        while not stop.is_set():
            quote_tick(store, tick, datetime.now(timezone.utc))
            tick += 1
            stop.wait(period)

    thread = threading.Thread(target=run, name="bench-quotes", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def steady_ticks(base: str, accept_encoding: str | None, *, interval: float,
                 ticks: int) -> netlog.TickFigures:
    """Per-tick medians over ``ticks`` refresh ticks after two settling ticks."""
    driver = chrome(accept_encoding)
    try:
        recorder = Recorder(driver)
        load_page(driver, recorder, base + DASHBOARD)
        time.sleep(2 * interval)
        recorder.reset()
        time.sleep(ticks * interval + interval / 2)
        recorder.wait_idle(quiet=min(1.0, interval / 3))
        groups = netlog.group_ticks(recorder.requests(), gap=interval / 2)
    finally:
        driver.quit()
    # The first tick may have begun before the recording did.
    return netlog.tick_figures(groups[1:] if len(groups) > 1 else groups)


def _serve(store: BenchStore, workdir: Path, interval: float, env: dict[str, str]):
    return gunicorn(workdir, ServerSpec(), extra_env={
        "BTCFOLIO_CONFIG": str(store.config_path),
        "BTCFOLIO__REFRESH__INTERVAL_SECONDS": str(int(interval)), **env})


def measure(n_assets: int, *, interval: float, ticks: int, workdir: Path) -> dict[str, Any]:
    """Every byte figure of one universe size, with the identity (compression off) baseline."""
    root = workdir / f"wire{n_assets}"
    store = build_store(root, n_assets)
    out: dict[str, Any] = {}
    with _serve(store, root, 3600, {}) as base:
        for label, encoding in (("app", None), ("identity", IDENTITY)):
            out[f"first_{label}"] = first_render(base, encoding)
    with quote_feed(store, interval / 2), _serve(store, root, interval, {}) as base:
        for label, encoding in (("app", None), ("identity", IDENTITY)):
            out[f"tick_{label}"] = steady_ticks(base, encoding, interval=interval, ticks=ticks)
    if LEGACY_ENV:
        with quote_feed(store, interval / 2), _serve(store, root, interval, LEGACY_ENV) as base:
            out["tick_legacy"] = steady_ticks(base, None, interval=interval, ticks=ticks)
    return out


def _rows(n: int, m: dict[str, Any]) -> list[Result]:
    tick, flat = m["tick_app"], m["tick_identity"]
    legacy = m.get("tick_legacy")
    up, down = tick.upload / KB, tick.wire / KB
    base_up = legacy.upload / KB if legacy else None
    rows = [
        Result(f"tick upload (browser), {n} assets", round(up, 3), "KB",
               None if base_up is None else round(base_up, 3), ratio(up, base_up),
               "<= 1 KB", up <= 1.0),
        Result(f"tick download on the wire (browser), {n} assets", round(down, 3), "KB",
               round(flat.wire / KB, 3), ratio(down, flat.wire / KB),
               "<= 2 KB" if n == 10 else "(reported)", down <= 2.0 if n == 10 else True),
        Result(f"tick download decoded (browser), {n} assets", round(tick.body / KB, 3), "KB",
               None, None, "(reported)", True),
        Result(f"tick requests (browser), {n} assets", tick.requests, "requests", None, None,
               "(reported)", True),
    ]
    first, first_flat = m["first_app"]["warm_wire"] / KB, m["first_identity"]["warm_wire"] / KB
    rows.append(Result(f"first render on the wire, warm cache, {n} assets", round(first, 3),
                       "KB", round(first_flat, 3), ratio(first, first_flat),
                       "<= 150 KB" if n == 200 else "(reported)",
                       first <= 150.0 if n == 200 else True))
    cold, cold_flat = m["first_app"]["cold_wire"] / KB, m["first_identity"]["cold_wire"] / KB
    rows.append(Result(f"first render on the wire, cold cache, {n} assets", round(cold, 3),
                       "KB", round(cold_flat, 3), ratio(cold, cold_flat), "(reported)", True))
    return rows


def results(*, quick: bool, workdir: Path | None = None) -> list[Result]:
    """Byte figures at 10 and 200 assets (quick: 10 assets, 3 ticks of 2 s)."""
    sizes, interval, ticks = ((10,), 2.0, 3) if quick else ((10, 200), 3.0, 8)
    out: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="btcfolio-wire-") as tmp:
        for n in sizes:
            out.extend(_rows(n, measure(n, interval=interval, ticks=ticks,
                                        workdir=workdir or Path(tmp))))
    return out
