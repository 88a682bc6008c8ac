"""Fetch -> validate -> store: ``ingest_once`` (history) and ``ingest_quotes``, plus the CLI.

    python -m data.ingest --assets BTC,ETH,SPY [--interval 1d|1h|1m] [--start YYYY-MM-DD]
                          [--end YYYY-MM-DD] [--source NAME] [--quotes] [--config PATH]

``--start``/``--end`` are inclusive UTC dates. Without ``--start`` an asset resumes from its last
stored bar (or ``ingest.history_days`` back on a first run); without ``--end`` up to today.
Upserts are idempotent, so running the same command twice adds nothing. Exit status: 0 when
every asset got data, 1 when some failed (one line each, no traceback), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pandas as pd

from data.ingest.validation import clean_prices, clean_quotes
from data.providers.registry import Registry, build_registry, one_line
from errors import AppError, DataError

logger = logging.getLogger(__name__)

_DEFAULT_SPAN = {"1d": None, "1h": timedelta(days=7), "1m": timedelta(days=1)}


@dataclass(frozen=True)
class AssetReport:
    """What happened to one asset: source used, rows written, bar range, rejections, error."""

    symbol: str
    source: str | None = None
    rows: int = 0
    first_ts: pd.Timestamp | None = None
    last_ts: pd.Timestamp | None = None
    rejected: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    """Per-asset reports of one run and the notices (skipped providers)."""

    assets: list[AssetReport] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every asset got data."""
        return all(a.error is None for a in self.assets)

    @property
    def rows(self) -> int:
        """Rows written in total."""
        return sum(a.rows for a in self.assets)


def _window(repo, symbol: str, interval: str, start: date | None, end: date | None,
            now: datetime, history_days: int) -> tuple[datetime, datetime]:
    """Inclusive UTC window: dates become 00:00 .. 23:59:59; defaults resume from the store."""
    end_ts = datetime.combine(end or now.date(), time(23, 59, 59), tzinfo=timezone.utc)
    if start is not None:
        return datetime.combine(start, time(0, 0), tzinfo=timezone.utc), end_ts
    stored = repo.load_latest_prices([symbol], interval=interval)
    stored = stored[stored["kind"] == "close"]
    if not stored.empty:
        return stored["ts"].max().to_pydatetime(), end_ts
    span = _DEFAULT_SPAN[interval] or timedelta(days=history_days)
    first = (pd.Timestamp(now) - span).floor("D" if interval == "1d" else "h")
    return first.to_pydatetime(), end_ts


def last_close_before(repo, symbol: str, interval: str, start: datetime) -> float | None:
    """The stored close just before ``start`` (the first jump check of a new window)."""
    lookback = timedelta(days=30) if interval == "1d" else timedelta(days=2)
    prior = repo.load_prices([symbol], interval=interval, start=start - lookback,
                             end=start - timedelta(seconds=1))
    return None if prior.empty else float(prior["close"].iloc[-1])


def _ingest_symbol(registry: Registry, repo, symbol: str, *, now: datetime, interval: str,
                   start: date | None, end: date | None, max_jump_factor: float,
                   history_days: int) -> AssetReport:
    if symbol not in registry.chains:
        return AssetReport(symbol, error=f"{symbol}: not an asset of the configured universe")
    try:
        lo, hi = _window(repo, symbol, interval, start, end, now, history_days)
        result = registry.fetch_history(symbol, lo, hi, interval, now=now)
        good, bad = clean_prices(result.frame, now=now, max_jump_factor=max_jump_factor,
                                 last_close=last_close_before(repo, symbol, interval, lo))
        if good.empty:
            reason = bad[0].reason if bad else "no bars"
            return AssetReport(symbol, result.source, rejected=len(bad),
                               error=f"{symbol}: all {len(bad)} bars rejected ({reason})")
        rows = repo.upsert_prices(good, interval=interval)
    except DataError as exc:
        return AssetReport(symbol, error=one_line(exc))
    return AssetReport(symbol, result.source, rows, good["ts"].iloc[0], good["ts"].iloc[-1],
                       rejected=len(bad))


def as_registry(registry_or_adapters: Registry | Mapping[str, Any],
                symbols: Sequence[str]) -> Registry:
    """A Registry as is; a mapping name -> adapter becomes one (each symbol tries them in order)."""
    if isinstance(registry_or_adapters, Registry):
        return registry_or_adapters
    adapters = dict(registry_or_adapters)
    return Registry(adapters=adapters, chains={s: list(adapters) for s in symbols})


def ingest_once(registry: Registry | Mapping[str, Any], repo, symbols: Sequence[str], *,
                now: datetime,
                interval: str = "1d", start: date | None = None, end: date | None = None,
                quotes: bool = False, max_jump_factor: float = 5.0, history_days: int = 365,
                progress: Callable[[Iterable[str]], Iterable[str]] | None = None,
                quote_max_age: float | None = None) -> IngestReport:
    """Fetch, validate and upsert history (or, with quotes=True, latest quotes) of symbols.

    Args:
        registry: adapters with their guards (`build_registry`), or a mapping name -> adapter.
        repo: the store (`Repository`).
        symbols: canonical asset symbols.
        now: current time (UTC); nothing newer is stored.
        interval: "1d", "1h" or "1m".
        start: first UTC date, inclusive (default: resume from the store).
        end: last UTC date, inclusive (default: today).
        quotes: fill the quotes table instead of the prices history.
        max_jump_factor: bad-data limit between consecutive closes.
        history_days: first-run window of daily history.
        progress: wraps the symbol iteration (e.g. tqdm); default none.
        quote_max_age: seconds a cached quote counts as fresh (default: the cache's TTL).

    Returns:
        IngestReport; failures are in it (one line each), never raised.
    """
    registry = as_registry(registry, symbols)
    if quotes:
        report = ingest_quotes(registry, repo, symbols, now=now, max_age=quote_max_age)
    else:
        report = IngestReport(notices=list(registry.notices))
        for symbol in (progress or iter)(list(symbols)):
            report.assets.append(_ingest_symbol(
                registry, repo, symbol, now=now, interval=interval, start=start, end=end,
                max_jump_factor=max_jump_factor, history_days=history_days))
    record_health(registry, repo, now)
    return report


def ingest_quotes(registry: Registry | Mapping[str, Any], repo, symbols: Sequence[str], *,
                  now: datetime, max_age: float | None = None) -> IngestReport:
    """Fetch the latest quotes (batched, cached, with fallback) and upsert the new ones.

    Quotes served from the cache are not written again (the store has them already, and
    rewriting would make them look freshly fetched); stale ones are reported as errors.
    """
    registry = as_registry(registry, symbols)
    report = IngestReport(notices=list(registry.notices))
    unknown = [s for s in symbols if s not in registry.chains]
    known = [s for s in symbols if s in registry.chains]
    results = registry.fetch_quotes(known, now=now, max_age=max_age)
    fresh = [r.quote for r in results.values() if r.quote is not None and not r.from_cache]
    good, bad = clean_quotes(fresh, now=now)
    written = 0
    try:
        written = repo.upsert_quotes(good, fetched_at=now) if good else 0
    except DataError as exc:
        return replace(report, assets=[AssetReport(s, error=one_line(exc)) for s in symbols])
    rejected = {r.symbol: r.reason for r in bad}
    for symbol in symbols:
        res = results.get(symbol)
        if symbol in unknown or res is None:
            report.assets.append(AssetReport(symbol, error=f"{symbol}: not an asset of the "
                                                           "configured universe"))
        elif res.quote is None or res.stale or symbol in rejected:
            why = rejected.get(symbol) or ("only a stale cached quote: " if res.stale else "")
            report.assets.append(AssetReport(symbol, res.source, error=f"{symbol}: {why}"
                                             f"{res.error or ''}".rstrip(": ")))
        else:
            ts = pd.Timestamp(res.quote.ts)
            rows = 1 if written and not res.from_cache else 0
            report.assets.append(AssetReport(symbol, res.source, rows, ts, ts))
    return report


def record_health(registry: Registry, repo, now: datetime) -> None:
    """Write each provider's last outcome of this run to the store's source health."""
    for source, (ok, error) in registry.drain_outcomes().items():
        try:
            repo.record_source_status(source, ok=ok, now=now, error=error)
        except DataError as exc:
            logger.warning("could not record status of %s: %s", source, one_line(exc))


# ---- CLI ----------------------------------------------------------------------------------
def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data.ingest",
                                description="Fetch market data and upsert it into the store.")
    p.add_argument("--assets", required=True, help="comma-separated symbols, e.g. BTC,ETH,SPY")
    p.add_argument("--interval", choices=("1d", "1h", "1m"), default="1d")
    p.add_argument("--start", type=_parse_date, help="first UTC date (inclusive)")
    p.add_argument("--end", type=_parse_date, help="last UTC date (inclusive)")
    p.add_argument("--source", choices=("coingecko", "coinmarketcap", "alphavantage", "yahoo"),
                   help="use only this provider")
    p.add_argument("--quotes", action="store_true", help="fill the quotes table")
    p.add_argument("--config", help="config file (default: $BTCFOLIO_CONFIG or config.yaml)")
    return p


def format_table(report: IngestReport) -> str:
    """The final table: asset, source, rows, first and last timestamp, rejected, error."""
    def fmt(ts: pd.Timestamp | None) -> str:
        return "-" if ts is None else ts.strftime("%Y-%m-%d %H:%M")

    rows = [("asset", "source", "rows", "first", "last", "rejected", "error")]
    rows += [(a.symbol, a.source or "-", str(a.rows), fmt(a.first_ts), fmt(a.last_ts),
              str(a.rejected), a.error or "") for a in report.assets]
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:6], widths, strict=True)) + "  " + r[6]
                     for r in rows).rstrip()


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
         *, now: datetime | None = None) -> int:
    """Run the CLI; returns the exit status (0 all ok, 1 some failed, 2 bad arguments)."""
    from data.providers.cache import PriceCache
    from data.store.repository import Repository
    from settings import load_settings  # entry point: settings are loaded here only

    env = dict(os.environ if environ is None else environ)
    args = _parser().parse_args(argv)  # exits 2 on bad arguments
    symbols = [s.strip().upper() for s in args.assets.split(",") if s.strip()]
    try:
        settings = load_settings(args.config, env)
    except AppError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    unknown = [s for s in symbols if s not in settings.assets]
    if not symbols or unknown or (args.start and args.end and args.start > args.end):
        why = (f"unknown assets: {', '.join(unknown)}" if unknown else
               "no assets given" if not symbols else "--start is after --end")
        print(f"error: {why}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # yfinance warns about every cookie/crumb retry; the table names the final reason.
    logging.getLogger("yfinance").setLevel(logging.ERROR)
    registry = build_registry(settings, env, PriceCache.from_settings(settings.cache))
    if args.source:
        registry.chains = {s: [p for p in c if p == args.source]
                           for s, c in registry.chains.items()}
    for notice in registry.notices:
        print(f"notice: {notice}", file=sys.stderr)  # noqa: T201 - CLI output
    repo = Repository.from_url(settings.store.url)
    from tqdm import tqdm

    report = ingest_once(
        registry, repo, symbols, now=now or datetime.now(timezone.utc), interval=args.interval,
        start=args.start, end=args.end, quotes=args.quotes,
        max_jump_factor=settings.ingest.max_jump_factor,
        history_days=settings.ingest.history_days,
        progress=lambda it: tqdm(it, desc="ingest", unit="asset", file=sys.stderr))
    print(format_table(report))  # noqa: T201 - CLI output
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
