"""A local stand-in for CoinGecko and Yahoo that behaves like them, serving real closes.

It serves ``tests/fixtures/prices/closes_2023-06-01_on.csv`` (real Yahoo daily candles, see
tests/fixtures/SOURCES.md) in the vendors' formats, as of a clock the test controls, and is as
unkind as the real APIs:

* CoinGecko ``/simple/price`` stamps each coin with its own ``last_updated_at``, seconds apart,
  and leaves out coins it has no price for today (as for an unknown id);
* CoinGecko ``/market_chart/range`` serves only the last 365 days: an older ``from`` gets
  HTTP 401 with the real 10012 body; a day's close is the point at the next midnight, plus a
  last point at "now" (as CoinGecko's daily granularity does);
* every ``rate_limit_every``-th CoinGecko call is a 429 with the real body and Retry-After;
* histories end on different days per asset (SOL 2025-08-13, MATIC 2025-03-24, ...); Yahoo
  answers a chart without bars for a range past the end, like its empty-range payload;
* Yahoo needs its cookie and crumb steps first (yfinance makes them), equity bars are stamped
  at the 09:30 New York open and keyed by the exchange's time zone.

``calls`` counts requests by (provider, kind).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from werkzeug import Request, Response

from tests.support.provider_server import LocalProvider
from tests.support.sample import FIXTURES

CLOSES = FIXTURES / "prices" / "closes_2023-06-01_on.csv"
COINGECKO_IDS = {"bitcoin": "BTC", "ethereum": "ETH", "solana": "SOL", "avalanche-2": "AVAX",
                 "matic-network": "MATIC", "tether": "USDT", "usd-coin": "USDC"}
CRYPTO = set(COINGECKO_IDS.values())
YAHOO_IDS = {**{f"{s}-USD": s for s in CRYPTO}, **{s: s for s in ("SPY", "QQQ", "AAPL", "GLD",
                                                                   "SLV")}}
CHART_RE = re.compile(r"^/v8/finance/chart/([^/]+)$")
RANGE_RE = re.compile(r"^/api/v3/coins/([^/]+)/market_chart/range$")
WINDOW_DAYS = 365
CRUMB = "l1veCrumb"


def load_closes(path: Path = CLOSES) -> dict[str, pd.Series]:
    """Close per date (index: datetime.date) for every symbol of the file."""
    raw = pd.read_csv(path)
    raw["date"] = pd.to_datetime(raw["date"]).dt.date
    return {s: g.set_index("date")["close"].astype(float) for s, g in raw.groupby("symbol")}


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def _json(body: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json")


class LiveMarket(LocalProvider):
    """CoinGecko + Yahoo on one local port (see the module docstring)."""

    def __init__(self, now: Callable[[], datetime], *, rate_limit_every: int = 0,
                 retry_after: int = 1, closes: dict[str, pd.Series] | None = None) -> None:
        self.now = now
        self.closes = closes if closes is not None else load_closes()
        self.rate_limit_every = rate_limit_every
        self.retry_after = retry_after
        super().__init__()
        self._lock = threading.Lock()
        self._calls: Counter = Counter()
        self.log: list[tuple[float, str, str]] = []  # (time.monotonic(), provider, kind)
        self._coingecko_seen = 0
        self.route_all()

    def calls(self) -> Counter:
        """Requests so far by (provider, kind): kind is quotes, history, 429, other."""
        with self._lock:
            return Counter(self._calls)

    def _count(self, provider: str, kind: str) -> None:
        with self._lock:
            self._calls[(provider, kind)] += 1
            self.log.append((time.monotonic(), provider, kind))

    def times(self, provider: str, kind: str) -> list[float]:
        """When each request of a kind arrived (time.monotonic())."""
        with self._lock:
            return [t for t, p, k in self.log if (p, k) == (provider, kind)]

    def served_closes(self, symbol: str, first: date, last: date) -> pd.Series:
        """The closes this server has for [first, last] (what a healed store must hold)."""
        series = self.closes[symbol]
        return series[(series.index >= first) & (series.index <= last)]

    # ---- routing ----------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/api/v3/"):
            return self._coingecko(request)
        if path == "/v1/test/getcrumb":
            self._count("yahoo", "other")
            return Response(CRUMB, content_type="text/plain")
        if path == "/v7/finance/quote":
            self._count("yahoo", "quotes")
            return _json(self._yahoo_quotes(request.args.get("symbols", "").split(",")))
        match = CHART_RE.match(path)
        if match:
            self._count("yahoo", "history")
            return _json(self._yahoo_chart(match.group(1), request.args))
        self._count("yahoo", "other")  # the cookie page (fc.yahoo.com rewritten to "/")
        return Response("", status=404, headers={"Set-Cookie": "A3=d=live; Path=/; HttpOnly"})

    def _coingecko(self, request: Request) -> Response:
        with self._lock:
            self._coingecko_seen += 1
            throttle = self.rate_limit_every and self._coingecko_seen % self.rate_limit_every == 0
        if throttle:
            self._count("coingecko", "429")
            body = (FIXTURES / "coingecko" / "error_429_rate_limit.json").read_bytes()
            return Response(body, status=429, headers={"Retry-After": str(self.retry_after)},
                            content_type="application/json")
        if request.path == "/api/v3/simple/price":
            self._count("coingecko", "quotes")
            return _json(self._coingecko_quotes(request.args.get("ids", "").split(",")))
        match = RANGE_RE.match(request.path)
        if not match:
            self._count("coingecko", "other")
            return _json({"error": "Not Found"}, 404)
        self._count("coingecko", "history")
        return self._coingecko_range(match.group(1), int(float(request.args["from"])),
                                     int(float(request.args["to"])))

    # ---- CoinGecko --------------------------------------------------------------------
    def _price_today(self, symbol: str) -> tuple[float, float | None] | None:
        """(close of today, % change from yesterday) if the series reaches today or yesterday."""
        today = self.now().date()
        series = self.closes.get(symbol)
        if series is None:
            return None
        recent = series[series.index <= today]
        if recent.empty or recent.index[-1] < today - timedelta(days=4):
            return None
        change = (recent.iloc[-1] / recent.iloc[-2] - 1) * 100 if len(recent) > 1 else None
        return float(recent.iloc[-1]), change

    def _coingecko_quotes(self, ids: list[str]) -> dict:
        now = int(self.now().timestamp())
        body = {}
        known = sorted(i for i in ids if i in COINGECKO_IDS)
        for n, cid in enumerate(known):
            quote = self._price_today(COINGECKO_IDS[cid])
            if quote is None:
                continue
            # Each coin updated at its own second, all before now, 9 s apart in id order:
            # ethereum's quote is newer than bitcoin's, as happens at the real API.
            body[cid] = {"usd": quote[0], "usd_24h_change": quote[1],
                         "last_updated_at": now - 5 - 9 * (len(known) - 1 - n)}
        return body

    def _coingecko_range(self, cid: str, start: int, end: int) -> Response:
        now = self.now()
        if start < now.timestamp() - WINDOW_DAYS * 86400:
            body = (FIXTURES / "coingecko" / "error_10012_time_range_401.json").read_bytes()
            return Response(body, status=401, content_type="application/json")
        symbol = COINGECKO_IDS.get(cid)
        if symbol is None:
            return _json({"error": "coin not found"}, 404)
        points = []
        for day, close in self.closes[symbol].items():
            stamp = _midnight(day + timedelta(days=1))  # a day's close: the next midnight
            if day == now.date():
                stamp = int(now.timestamp())  # today's: the "now" point
            if start <= stamp <= min(end, now.timestamp()):
                points.append([stamp * 1000, float(close)])
        return _json({"prices": points, "market_caps": [[p[0], 1e9] for p in points],
                      "total_volumes": [[p[0], 1e6] for p in points]})

    # ---- Yahoo ------------------------------------------------------------------------
    def _bar_stamp(self, symbol: str, day: date) -> int:
        if symbol in CRYPTO:
            return _midnight(day)
        open_ny = pd.Timestamp(day).tz_localize("America/New_York") + pd.Timedelta("9h30min")
        return int(open_ny.tz_convert("UTC").timestamp())

    def _yahoo_chart(self, ticker: str, args) -> dict:  # untyped: werkzeug MultiDict
        symbol = YAHOO_IDS.get(ticker)
        if symbol is None:
            return {"chart": {"result": None, "error": {
                "code": "Not Found", "description": "No data found, symbol may be delisted"}}}
        lo, hi = int(args["period1"]), int(args["period2"])
        now = self.now().timestamp()
        rows = [(self._bar_stamp(symbol, d), c) for d, c in self.closes[symbol].items()]
        rows = [(t, c) for t, c in rows if lo <= t < hi and t <= now]
        zone = "UTC" if symbol in CRYPTO else "America/New_York"
        result = {"meta": {"currency": "USD", "symbol": ticker, "exchangeTimezoneName": zone,
                           "dataGranularity": "1d"}, "indicators": {"quote": [{}]}}
        if rows:
            closes = [c for _, c in rows]
            result["timestamp"] = [t for t, _ in rows]
            result["indicators"]["quote"] = [{"open": closes, "high": closes, "low": closes,
                                              "close": closes, "volume": [0] * len(rows)}]
        return {"chart": {"result": [result], "error": None}}

    def _yahoo_quotes(self, tickers: list[str]) -> dict:
        now = self.now()
        result = []
        for n, ticker in enumerate(t for t in tickers if t in YAHOO_IDS):
            symbol = YAHOO_IDS[ticker]
            quote = self._price_today(symbol)
            if quote is None:
                continue
            last_day = self.closes[symbol][self.closes[symbol].index <= now.date()].index[-1]
            when = (now.timestamp() - 5 - 3 * n if symbol in CRYPTO else
                    pd.Timestamp(last_day).tz_localize("America/New_York").timestamp() + 16 * 3600)
            result.append({"symbol": ticker, "regularMarketPrice": quote[0],
                           "regularMarketChangePercent": quote[1],
                           "regularMarketTime": int(min(when, now.timestamp()))})
        return {"quoteResponse": {"result": result, "error": None}}
