"""Gap healing: fill 12 assets x 400 missing days from a local market server.

Measured: ``data.ingest.gap_heal.heal_gaps`` over the 12-asset universe on a store whose closes stop
401 days before "today" (2025-03-24, the last day every real series has), against
``tests.support.live_provider.LiveMarket`` (real closes in CoinGecko's and Yahoo's formats,
CoinGecko's 365-day plan window) on 127.0.0.1: the gap search, plan-window split, the calls through
the registry (retries, breakers; local rate budgets off, as the server does not throttle), bar
checks and the upserts, plus the re-reads that decide what the next source is asked for.
Floor: the same bars fetched with one call per provider window chosen by hand (CoinGecko for
its window, Yahoo for the older days and the equities) and upserted, with no gap search, no
checks and no re-reads: the least any healing can do over HTTP.

Figures: wall time (median of runs) against the floor, and provider calls against the
minimum (one per asset per plan window).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pandas as pd

from benchmarks.common import Result, median, ratio, timed
from data.ingest.gap_heal import heal_gaps
from data.providers.registry import build_registry
from data.store.repository import Repository
from data.store.seed import read_sample
from settings import load_settings
from tests.support.live_provider import LiveMarket
from tests.support.sample import ROOT, SAMPLE

TODAY = date(2025, 3, 24)
NOW = datetime.combine(TODAY, time(22, 0), tzinfo=timezone.utc)
MISSING_DAYS = 400
CUT = TODAY - timedelta(days=MISSING_DAYS + 1)   # last stored close before the gap


def _settings(url: str, store: Path):
    env = {"BTCFOLIO__STORE__URL": f"sqlite:///{store}",
           "BTCFOLIO__SOURCES__COINMARKETCAP__ENABLED": "false",
           "BTCFOLIO__SOURCES__ALPHAVANTAGE__ENABLED": "false"}
    for source in ("COINGECKO", "YAHOO"):
        env[f"BTCFOLIO__SOURCES__{source}__BASE_URL"] = url
    return load_settings(ROOT / "config.yaml", env)


def _seed(path: Path) -> None:
    frame = read_sample(SAMPLE)
    repo = Repository.from_url(f"sqlite:///{path}")
    repo.upsert_prices(frame[frame["ts"].dt.date <= CUT], interval="1d")
    repo.engine.dispose()


def _heal(settings, store: Path) -> int:
    repo = Repository.from_url(f"sqlite:///{store}")
    registry = build_registry(settings, {}, None, use_rate_limits=False)
    kinds = {s: a.kind for s, a in settings.assets.items()}
    report = heal_gaps(registry, repo, kinds, sorted(settings.assets), now=NOW)
    repo.engine.dispose()
    return report.filled


def _floor(settings, store: Path) -> int:
    repo = Repository.from_url(f"sqlite:///{store}")
    registry = build_registry(settings, {}, None, use_rate_limits=False)
    oldest = TODAY - timedelta(days=364)
    day = timedelta(days=1)
    rows = 0
    for symbol, asset in settings.assets.items():
        windows = ([("coingecko", oldest, TODAY), ("yahoo", CUT + day, oldest - day)]
                   if asset.kind == "crypto" else [("yahoo", CUT + day, TODAY)])
        for provider, lo, hi in windows:
            start = datetime.combine(lo, time(0), tzinfo=timezone.utc)
            end = datetime.combine(hi, time(23, 59, 59), tzinfo=timezone.utc)
            frame = registry.fetch_history(symbol, start, end, now=NOW, sources=[provider]).frame
            rows += repo.upsert_prices(frame, interval="1d", overwrite=False)
    repo.engine.dispose()
    return rows


def _calls(market: LiveMarket) -> int:
    counts = market.calls()
    return sum(n for (_, kind), n in counts.items() if kind == "history")


def stored(store: Path) -> pd.DataFrame:
    """The closes after the cut (what healing and the floor must both have stored)."""
    repo = Repository.from_url(f"sqlite:///{store}")
    frame = repo.load_prices(start=datetime.combine(CUT + timedelta(days=1), time(0),
                                                    tzinfo=timezone.utc))
    repo.engine.dispose()
    return frame[["symbol", "ts", "close"]].sort_values(["symbol", "ts"]).reset_index(drop=True)


def measure(workdir: Path, runs: int) -> dict:
    """Heal and floor timings (ms), provider calls of one heal, and both stores of the last run."""
    seed = workdir / "seed.db"
    _seed(seed)
    market = LiveMarket(lambda: NOW).start()
    out: dict = {"heal": [], "floor": []}
    try:
        for i in range(runs):
            for kind, body in (("heal", _heal), ("floor", _floor)):
                store = workdir / f"{kind}{i}.db"
                shutil.copy(seed, store)
                settings = _settings(market.url, store)
                before = _calls(market)
                ms, _ = timed(lambda s=settings, p=store, b=body: b(s, p))
                out[kind].append(ms)
                out[f"{kind}_calls"] = _calls(market) - before
                out[f"{kind}_store"] = store
    finally:
        market.stop()
    return out


def results(*, quick: bool) -> list[Result]:
    """Heal time and provider calls (median of 1 or 3 runs) against the hand-picked floor."""
    with tempfile.TemporaryDirectory() as tmp:
        m = measure(Path(tmp), 1 if quick else 3)
    heal_s, floor_s = median(m["heal"]) / 1000, median(m["floor"]) / 1000
    minimum = m["floor_calls"]
    calls_ratio = ratio(m["heal_calls"], minimum)
    return [
        Result(f"gap heal 12 assets x {MISSING_DAYS} days", round(heal_s, 3), "s",
               round(floor_s, 3), ratio(heal_s, floor_s), "<= 30 s", heal_s <= 30),
        Result(f"gap heal provider calls, 12 x {MISSING_DAYS} days", m["heal_calls"], "calls",
               minimum, calls_ratio, "<= 1.5 x minimum",
               calls_ratio is not None and calls_ratio <= 1.5),
    ]
