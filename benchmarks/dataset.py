"""Benchmark data built from the real daily series bundled in data/sample/prices_daily.csv.

The sample holds 12 real series (7 crypto over 2021-01..2025-08, 5 US equities/ETFs on their
trading days). The benchmarks need 5 years ending today and up to 200 assets, so:

* Every benchmark series **replays a real series' daily log returns, in their real order**,
  onto a calendar ending today (UTC midnight): every day for crypto, weekdays minus US federal
  holidays for equities (close to, not exactly, the NYSE calendar). Where 5 years need more
  returns than the sample has (4.6 years), the replay wraps around to the series' start.
* Asset 1 of each base series replays it from its first return, re-based at its real first
  close; copy k (symbols like ``ETH007``) starts k × 37 returns later and is re-based at the
  real close there. So the 200-asset universe is real price paths shifted in time, not random.
* open/high/low keep the real bar's ratio to its close; volume is the real volume.

No random numbers anywhere: the same inputs give the same store on every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pandas.tseries.holiday import USFederalHolidayCalendar

from data.models import Quote
from data.store.repository import Repository
from data.store.seed import SEED_KEY, init_portfolio
from settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "prices_daily.csv"
BASE_CONFIG = ROOT / "config.yaml"
# Providers point at the discard port on loopback: every call fails at once, offline.
DEAD_PROVIDER = "http://127.0.0.1:9"
COPY_STEP = 37          # returns between the starts of two copies of one real series
USD_PER_HOLDING = 1000.0  # each holding is worth about this much at its last price
# Order of the base series: the first ten are the 10-asset universe (MATIC, which stopped
# trading in the sample, is used only as a source of returns for the copies).
BASES = ("BTC", "ETH", "SOL", "AVAX", "USDT", "USDC", "SPY", "QQQ", "AAPL", "GLD", "SLV",
         "MATIC")


@dataclass(frozen=True)
class BenchAsset:
    """One benchmark asset: which real series it replays, from which return on."""

    symbol: str
    base: str
    kind: str       # crypto | equity
    category: str
    offset: int


def real_series() -> dict[str, pd.DataFrame]:
    """The sample's real daily bars per symbol (ts-sorted, with kind and category columns)."""
    raw = pd.read_csv(SAMPLE, parse_dates=["date"])
    settings = load_settings(BASE_CONFIG, {})
    out = {}
    for symbol, frame in raw.groupby("symbol"):
        frame = frame.sort_values("date").reset_index(drop=True)
        asset = settings.assets[symbol]
        out[symbol] = frame.assign(kind=asset.kind, category=asset.category)
    return out


def universe(n_assets: int, series: dict[str, pd.DataFrame]) -> list[BenchAsset]:
    """``n_assets`` assets: the real bases first, then shifted copies of them in turn."""
    if n_assets < 1:
        raise ValueError("need at least BTC")
    out: list[BenchAsset] = []
    copy = 0
    while len(out) < n_assets:
        for base in BASES:
            if len(out) == n_assets:
                break
            if copy == 0 and base == "MATIC":
                continue
            if copy > 0 and base == "BTC":
                continue  # one BTC: the unit of account
            first = series[base].iloc[0]
            out.append(BenchAsset(symbol=base if copy == 0 else f"{base}{copy:03d}", base=base,
                                  kind=str(first["kind"]), category=str(first["category"]),
                                  offset=copy * COPY_STEP))
        copy += 1
    return out


def calendar(kind: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Daily UTC dates of a market: every day (crypto) or US business days (equity)."""
    if kind == "crypto":
        return pd.date_range(start, end, freq="D", tz="UTC")
    days = pd.bdate_range(start.tz_localize(None), end.tz_localize(None),
                          freq="C", holidays=USFederalHolidayCalendar().holidays(
                              start.tz_localize(None), end.tz_localize(None)))
    return days.tz_localize("UTC")


def replay(asset: BenchAsset, bars: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The asset's bars on ``dates``: the base's real log returns replayed from its offset."""
    close = bars["close"].to_numpy(float)
    returns = np.diff(np.log(close))
    n = len(dates)
    pick = (asset.offset + np.arange(1, n)) % len(returns)
    start = asset.offset % len(returns)
    path = close[start] * np.exp(np.concatenate([[0.0], np.cumsum(returns[pick - 1])]))
    src = np.concatenate([[start], pick])  # the real bar each date's shape comes from
    ratios = {c: bars[c].to_numpy(float)[src] / close[src] for c in ("open", "high", "low")}
    return pd.DataFrame({"ts": dates, "symbol": asset.symbol,
                         **{c: path * r for c, r in ratios.items()}, "close": path,
                         "volume": bars["volume"].to_numpy(float)[src], "source": "bench"})


def history(assets: Iterable[BenchAsset], series: dict[str, pd.DataFrame], *, end: pd.Timestamp,
            days: int) -> pd.DataFrame:
    """Price frame (PRICE_COLUMNS) of every asset over the ``days`` calendar days to ``end``."""
    start = end - pd.Timedelta(days=days - 1)
    calendars = {k: calendar(k, start, end) for k in ("crypto", "equity")}
    return pd.concat([replay(a, series[a.base], calendars[a.kind]) for a in assets],
                     ignore_index=True)


def today() -> pd.Timestamp:
    """Today's date at 00:00 UTC: the last daily bar of the benchmark history."""
    return pd.Timestamp(datetime.now(timezone.utc).date(), tz="UTC")


def holdings_of(assets: list[BenchAsset], frame: pd.DataFrame) -> dict[str, float]:
    """About USD_PER_HOLDING of each asset at its last close (3 significant digits)."""
    last = frame.groupby("symbol")["close"].last()
    return {a.symbol: float(f"{USD_PER_HOLDING / last[a.symbol]:.3g}") for a in assets}


def write_config(path: Path, assets: list[BenchAsset], holdings: dict[str, float], *,
                 store_url: str, cache_dir: Path) -> Path:
    """A config.yaml for the benchmark universe: bundled config, providers on a dead port."""
    raw = yaml.safe_load(BASE_CONFIG.read_text(encoding="utf-8"))
    base_assets = raw["assets"]
    raw["store"] = {"url": store_url, "seed_file": str(SAMPLE)}
    raw["cache"]["dir"] = str(cache_dir)
    for source in raw["sources"].values():
        source["base_url"] = DEAD_PROVIDER
        source["timeout_seconds"] = 1
    raw["ingest"]["retry_attempts"] = 1
    raw["assets"] = {a.symbol: {**base_assets[a.base],
                                "name": base_assets[a.base]["name"] + (
                                    "" if a.symbol == a.base else f" (copy {a.symbol[-3:]})")}
                     for a in assets}
    raw["portfolio"] = {"name": "default", "holdings": holdings}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class BenchStore:
    """A seeded temporary store with its settings, config file and universe."""

    settings: Settings
    repo: Repository
    config_path: Path
    assets: list[BenchAsset]
    frame: pd.DataFrame
    series: dict[str, pd.DataFrame]


def build_store(workdir: Path, n_assets: int, *, years: int = 5,
                series: dict[str, pd.DataFrame] | None = None) -> BenchStore:
    """A temporary SQLite store holding ``years`` of daily history for ``n_assets`` assets.

    Written through ``Repository.upsert_prices`` and marked seeded, so the app's own
    ``open_store`` leaves it as it is (no sample rows at their original dates).
    """
    series = series or real_series()
    workdir.mkdir(parents=True, exist_ok=True)
    assets = universe(n_assets, series)
    frame = history(assets, series, end=today(), days=365 * years + years // 4)
    holdings = holdings_of(assets, frame)
    config = write_config(workdir / "config.yaml", assets, holdings,
                          store_url=f"sqlite:///{workdir / 'store.db'}",
                          cache_dir=workdir / "cache")
    settings = load_settings(config, {})
    repo = Repository.from_url(settings.store.url)
    repo.upsert_prices(frame, interval="1d", overwrite=False)
    repo.claim_meta(SEED_KEY, "benchmark")
    init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
    repo.sync_assets({s: a.model_dump() for s, a in settings.assets.items()})
    return BenchStore(settings=settings, repo=repo, config_path=config, assets=assets,
                      frame=frame, series=series)


def quote_tick(store: BenchStore, tick: int, now: datetime) -> None:
    """Store one round of live quotes, as the scheduler's 30 s job does.

    Quote price = last stored close moved by the base series' real daily return number
    ``tick`` scaled to 30 s (× sqrt(30 / 86400)), stamped ``now``; source "bench".
    """
    last = store.frame.groupby("symbol")["close"].last()
    scale = np.sqrt(30 / 86400)
    quotes = []
    for a in store.assets:
        close = store.series[a.base]["close"].to_numpy(float)
        r = np.log(close[1:] / close[:-1])[(a.offset + tick) % (len(close) - 1)]
        quotes.append(Quote(symbol=a.symbol, price_usd=float(last[a.symbol] * np.exp(r * scale)),
                            ts=now, source="bench"))
    store.repo.upsert_quotes(quotes, fetched_at=now)


def aligned_window(store_frame: pd.DataFrame, days: int) -> pd.DataFrame:
    """Wide close frame (index ts, one column per symbol) of the last ``days`` days."""
    wide = store_frame.pivot(index="ts", columns="symbol", values="close").sort_index()
    wide.columns.name = None
    end = wide.index[-1]
    return wide.loc[wide.index > end - timedelta(days=days)]
