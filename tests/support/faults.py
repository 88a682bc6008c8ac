"""Helpers of the fault tests: an app process on a fault proxy, its routes, its store, its banner.

The app is the real one (``python app.py`` with its embedded scheduler), configured through
``BTCFOLIO__...`` variables so every provider call goes to a local ``FaultProxy`` and retries,
timeouts and breakers are short.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from components import ids
from tests.support.processes import process_env, spawn, stop, wait_for
from tests.support.sample import SAMPLE

API_KEY = "fault-test-key-0000"
# Short timeouts, few quick retries, a breaker that lets a trial call through every half
# second: every scheduled run reaches the (faulty) provider and ends within a few seconds.
FAULT_ENV = {
    "BTCFOLIO__SCHEDULER__EMBEDDED": "true",
    "BTCFOLIO__SCHEDULER__BACKFILL_CHECK_SECONDS": "1",
    "BTCFOLIO__SCHEDULER__BACKFILL_DAYS": "30",
    "BTCFOLIO__INGEST__RETRY_ATTEMPTS": "2",
    "BTCFOLIO__INGEST__RETRY_MAX_SECONDS": "5",
    "BTCFOLIO__INGEST__BACKOFF_INITIAL_SECONDS": "0.05",
    "BTCFOLIO__INGEST__BACKOFF_MAX_SECONDS": "0.2",
    "BTCFOLIO__INGEST__BREAKER_RESET_SECONDS": "0.5",
    "BTCFOLIO__INGEST__RATE_LIMIT_MAX_WAIT_SECONDS": "1",
    "BTCFOLIO__SOURCES__COINMARKETCAP__ENABLED": "true",
    "BTCFOLIO__SOURCES__ALPHAVANTAGE__ENABLED": "true",
    "BTCFOLIO__SOURCES__ALPHAVANTAGE__RATE_LIMIT__PER_MINUTE": "6000",
    "BTCFOLIO__SOURCES__ALPHAVANTAGE__RATE_LIMIT__PER_DAY": "1000000",
    "BTCFOLIO__SOURCES__COINMARKETCAP__RATE_LIMIT__PER_MINUTE": "6000",
    "BTCFOLIO__SOURCES__COINMARKETCAP__RATE_LIMIT__PER_DAY": "1000000",
    "BTCFOLIO__SOURCES__YAHOO__ENABLED": "true",
    "BTCFOLIO__SOURCES__YAHOO__RATE_LIMIT__PER_MINUTE": "6000",
    **{f"BTCFOLIO__SOURCES__{name}__TIMEOUT_SECONDS": "0.5"
       for name in ("COINGECKO", "COINMARKETCAP", "ALPHAVANTAGE", "YAHOO")},
    "CMC_API_KEY": API_KEY,
    "ALPHAVANTAGE_API_KEY": API_KEY,
}
SOURCES = ("coingecko", "coinmarketcap", "alphavantage", "yahoo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_without(tmp: Path, symbols: set[str]) -> Path:
    """The bundled sample minus some assets (they need a backfill from the provider)."""
    raw = pd.read_csv(SAMPLE)
    path = tmp / "seed.csv"
    raw[~raw["symbol"].isin(symbols)].to_csv(path, index=False)
    return path


@dataclass
class AppProcess:
    """A running ``python app.py`` and how to reach it."""

    proc: Any
    port: int
    store_url: str
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout: float = 15) -> tuple[int, bytes]:
        """GET a route: (status, body); HTTP errors are returned, not raised."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post_json(self, path: str, body: Any, timeout: float = 15) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def health(self) -> dict:
        status, body = self.get("/api/health")
        assert status == 200, body[:300]
        return json.loads(body)

    def banner_text(self) -> str:
        """The dashboard status banner's text, as a new tab's refresh tick renders it.

        The refresh callback (the one the interval fires) answers one live update; its
        ``banner`` is what the browser writes into the status banner (assets/live.js).
        """
        status, body = self.get("/_dash-dependencies")
        assert status == 200
        callback = next(c for c in json.loads(body) if c["inputs"]
                        and c["inputs"][0]["id"] == ids.REFRESH_INTERVAL)
        component, prop = callback["output"].rsplit(".", 1)
        payload = {
            "output": callback["output"], "outputs": {"id": component, "property": prop},
            "inputs": [{**i, "value": None} for i in callback["inputs"]],
            "state": [{**s, "value": None} for s in callback["state"]],
            "changedPropIds": [f"{ids.REFRESH_INTERVAL}.n_intervals"],
        }
        status, body = self.post_json("/_dash-update-component", payload)
        assert status == 200, body[:300]
        banner = json.loads(body)["response"][component][prop]["banner"]
        return " ".join(_strings(banner))

    def stop(self) -> int:
        return stop(self.proc)


def _strings(node: Any) -> list[str]:
    """Every text inside a serialized Dash component tree."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for child in node for s in _strings(child)]
    if isinstance(node, dict):
        return _strings(node.get("props", {}).get("children"))
    return []


def start_app(tmp: Path, provider_url: str, *, store_url: str, log_name: str = "app.log",
              base_env: dict[str, str] | None = None, **extra: str) -> AppProcess:
    """``python app.py`` on a free port (FAULT_ENV unless ``base_env``), once /api/health answers.

    ``process_env`` gives the fake provider (only CoinGecko enabled) and the fast timings.
    """
    port = free_port()
    base = FAULT_ENV if base_env is None else base_env
    env = process_env(tmp, provider_url, **{**base, "BTCFOLIO__STORE__URL": store_url, **extra})
    log = tmp / log_name
    proc = spawn([sys.executable, "app.py", "--port", str(port)], env, log)
    app = AppProcess(proc, port, store_url, log)

    def up() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            return app.get("/api/health", timeout=2)[0] == 200
        except OSError:
            return False

    wait_for(up, 60, "the app to answer /api/health")
    return app


# ---- the store ---------------------------------------------------------------------------
def price_rows(engine: sa.Engine) -> set[tuple]:
    """Every stored bar as (symbol, interval, ts, close, source)."""
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(sa.text(
            'SELECT symbol, "interval", ts, close, source FROM prices'))}


def quote_rows(engine: sa.Engine) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(sa.text(
            "SELECT symbol, price_usd, ts, source, fetched_at FROM quotes"))}


def bad_values(engine: sa.Engine) -> int:
    """Stored prices or quotes that are NULL, NaN, zero or negative."""
    checks = ("SELECT count(*) FROM prices WHERE close IS NULL OR NOT (close > 0) "
              "OR close != close OR (open IS NOT NULL AND NOT (open > 0)) "
              "OR (high IS NOT NULL AND NOT (high > 0)) OR (low IS NOT NULL AND NOT (low > 0))",
              "SELECT count(*) FROM quotes WHERE price_usd IS NULL OR NOT (price_usd > 0) "
              "OR price_usd != price_usd")
    with engine.connect() as conn:
        return sum(int(conn.execute(sa.text(q)).scalar_one()) for q in checks)
