"""A local CoinGecko + Yahoo stand-in (pytest-httpserver) for adding a custom asset (DOGE).

Bodies follow the recorded payloads in tests/fixtures (``coins_markets_oas_example.json``,
``quote_v7_BTC-USD.json``, ``chart_BTC-USD_1d_...json``, the 404 bodies), with the values of
one coin replaced. **The DOGE prices are synthetic**: real DOGE history is not in
/work/shared/data, so a plausible daily series (0.05-0.40 USD, a slow swing plus a weekly
wobble) is generated for whatever window is asked. As unkind as the real services:

* Yahoo wants its cookie and crumb first (as yfinance does it) and answers unknown tickers
  with its ``Not Found`` error object and HTTP 404; CoinGecko answers an unknown coin with
  ``[]`` (markets) or its 404 body (history).
* The first history call of a coin gets CoinGecko's HTTP 429 with ``Retry-After: 1``.
* The series ends "now" (the real clock): the bundled sample's BTC ends on another day.
* ``last_updated`` / ``regularMarketTime`` differ per coin by seconds, never a shared stamp.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from werkzeug import Request, Response

from tests.support.provider_server import LocalProvider
from tests.support.recorded import load

CRUMB = "standinCrumb"
HISTORY_RE = re.compile(r"^/api/v3/coins/([^/]+)/market_chart/range$")
CHART_RE = re.compile(r"^/v8/finance/chart/([^/]+)$")
# coin id / ticker -> (name, ticker symbol, seconds behind "now" of its last update)
COINS = {"dogecoin": ("Dogecoin", "doge", 7)}
# Quotes (/simple/price) also for BTC, so "now" has a BTC price: synthetic too (made up,
# near the 2025 range), seconds apart from DOGE's.
QUOTED = {"dogecoin": 7, "bitcoin": 3}
TICKERS = {"DOGE-USD": ("Dogecoin USD", "DOGE", 19)}


def synthetic_btc(day: int) -> float:
    """A made-up BTC price in USD for a day number (only served as a quote)."""
    return round(95000.0 + 8000.0 * math.sin(day / 41.0), 2)


def synthetic_price(day: int) -> float:
    """A plausible (made-up) DOGE close in USD for a day number since 1970-01-01."""
    return round(0.16 * math.exp(0.7 * math.sin(day / 53.0) + 0.06 * math.sin(day / 3.1)), 6)


class ProviderStandIn(LocalProvider):
    """CoinGecko and Yahoo on one local port; ``calls`` counts requests by path kind."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter = Counter()
        self._lock = threading.Lock()
        self._limited: set[str] = set()   # coins whose first history call got its 429
        self.route_all()

    def env(self) -> dict[str, str]:
        """Settings overrides: CoinGecko and Yahoo here; the keyed providers off."""
        env = {}
        for source in ("COINGECKO", "YAHOO", "COINMARKETCAP", "ALPHAVANTAGE"):
            env[f"BTCFOLIO__SOURCES__{source}__BASE_URL"] = self.url
            env[f"BTCFOLIO__SOURCES__{source}__TIMEOUT_SECONDS"] = "3"
        env["BTCFOLIO__SOURCES__COINMARKETCAP__ENABLED"] = "false"
        env["BTCFOLIO__SOURCES__ALPHAVANTAGE__ENABLED"] = "false"
        return env

    def _count(self, kind: str) -> None:
        with self._lock:
            self.calls[kind] += 1

    def _handle(self, request: Request) -> Response:
        path = request.path
        if path == "/":  # yfinance's cookie step (fc.yahoo.com, rewritten here)
            self._count("cookie")
            return Response("", status=404, headers={"Set-Cookie": "A3=d=standin; Path=/"})
        if path == "/v1/test/getcrumb":
            self._count("crumb")
            return Response(CRUMB, content_type="text/plain")
        if path == "/api/v3/simple/price":
            self._count("simple_price")
            return _json(self._simple_price(request.args.get("ids", "")))
        if path == "/api/v3/coins/markets":
            self._count("markets")
            return _json(self._markets(request.args.get("ids", "")))
        if path == "/v7/finance/quote":
            self._count("quote")
            return _json(self._quote(request.args.get("symbols", "")))
        if (match := HISTORY_RE.match(path)) is not None:
            self._count("history")
            return self._coingecko_history(match.group(1), request)
        if (match := CHART_RE.match(path)) is not None:
            self._count("chart")
            return self._chart(match.group(1), request)
        self._count("other")
        return Response("not found", status=404)

    # ---- CoinGecko ---------------------------------------------------------------------------
    def _simple_price(self, ids: str) -> dict:
        out = {}
        for coin in (c for c in ids.split(",") if c in QUOTED):
            stamp = int(time.time()) - QUOTED[coin]
            price = (synthetic_btc if coin == "bitcoin" else synthetic_price)(stamp // 86400)
            out[coin] = {"usd": price, "usd_24h_change": -1.2, "last_updated_at": stamp}
        return out

    def _markets(self, ids: str) -> list:
        template = load("coingecko", "coins_markets_oas_example.json")[0]
        out = []
        for coin in (c for c in ids.split(",") if c in COINS):
            name, ticker, lag = COINS[coin]
            entry = copy.deepcopy(template)
            now = time.time() - lag
            entry.update(id=coin, symbol=ticker, name=name,
                         current_price=synthetic_price(int(now // 86400)),
                         last_updated=datetime.fromtimestamp(now, timezone.utc).isoformat())
            out.append(entry)
        return out

    def _coingecko_history(self, coin: str, request: Request) -> Response:
        if coin not in COINS:
            return _json(load("coingecko", "error_404_coin_not_found.json"), 404)
        with self._lock:
            first = coin not in self._limited
            self._limited.add(coin)
        if first:
            return Response(json.dumps(load("coingecko", "error_429_rate_limit.json")),
                            status=429, headers={"Retry-After": "1"},
                            content_type="application/json")
        start, end = int(float(request.args["from"])), int(float(request.args["to"]))
        end = min(end, int(time.time()) - COINS[coin][2])
        days = range(start - start % 86400 + 86400, end, 86400)
        # Daily points at 00:00 UTC plus a last "now" point, as CoinGecko serves > 90 days.
        points = [(d, synthetic_price(d // 86400 - 1)) for d in days]
        points.append((end, synthetic_price(end // 86400)))
        return _json({"prices": [[t * 1000, p] for t, p in points],
                      "market_caps": [[t * 1000, p * 1.4e11] for t, p in points],
                      "total_volumes": [[t * 1000, 9e8] for t, _ in points]})

    # ---- Yahoo -------------------------------------------------------------------------------
    def _quote(self, symbols: str) -> dict:
        template = load("yahoo", "quote_v7_BTC-USD.json")
        row0 = template["quoteResponse"]["result"][0]
        rows = []
        for ticker in (t for t in symbols.split(",") if t in TICKERS):
            name, base, lag = TICKERS[ticker]
            row = copy.deepcopy(row0)
            now = int(time.time()) - lag
            row.update(symbol=ticker, shortName=name, longName=name, fromCurrency=base,
                       regularMarketPrice=synthetic_price(now // 86400), regularMarketTime=now)
            rows.append(row)
        template["quoteResponse"]["result"] = rows
        return template

    def _chart(self, ticker: str, request: Request) -> Response:
        if ticker not in TICKERS:
            return _json(load("yahoo", "chart_error_not_found_404.json"), 404)
        body = load("yahoo", "chart_BTC-USD_1d_2020-01-01_2020-01-03.json")
        result = body["chart"]["result"][0]
        start, end = int(request.args["period1"]), int(request.args["period2"])
        end = min(end, int(time.time()) - TICKERS[ticker][2])
        stamps = list(range(start - start % 86400, end, 86400))
        closes = [synthetic_price(t // 86400) for t in stamps]
        result["meta"].update(symbol=ticker, longName=TICKERS[ticker][0],
                              shortName=TICKERS[ticker][0])
        result["timestamp"] = stamps
        result["indicators"] = {"quote": [{"open": closes, "high": closes, "low": closes,
                                           "close": closes, "volume": [1e8] * len(stamps)}],
                                "adjclose": [{"adjclose": closes}]}
        return _json(body)


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
