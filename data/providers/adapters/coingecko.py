"""CoinGecko adapter through pycoingecko (quotes batched in one /simple/price call).

Source: https://docs.coingecko.com/reference/introduction

Paths: ``{base_url}/api/v3/simple/price`` and ``/api/v3/coins/{id}/market_chart/range``.
History granularity is chosen by CoinGecko, not by us: a window of 1 day gives ~5-minute
points, 2-90 days hourly points, more than 90 days one point per day at 00:00 UTC (plus a
last "now" point). A ``1d`` bar's close is the last price at or before the end of its UTC date,
the 00:00 point of the next day counting as the end of the previous one; this matches the daily
candles of Yahoo and the sample data (date D closes at D 23:59:59). Close only: open/high/low are
NaN and volume is CoinGecko's rolling 24 h volume. ``1h`` bars hold the last price seen in the
hour and need a window of at most 90 days; ``1m`` is not offered. Without a paid key (demo
plan) only the last 365 days are served (CoinGecko answers status.error_code 10012 beyond that,
mapped to BadResponseError).

pycoingecko builds the URLs and decodes the body. Its own requests session (which retries 5xx
silently) is replaced by ``_TypedSession``: the registry owns retries, every HTTP status becomes
a typed error, and the demo/pro key is moved from the query string into the documented header
(``x-cg-demo-api-key`` / ``x-cg-pro-api-key``) so it never shows in a URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar

import pandas as pd
import requests
from pycoingecko import CoinGeckoAPI

from data.models import Listing
from data.providers.adapters.base import PriceAdapter, Quote, make_price_frame
from data.providers.http import get_response, redact_url
from errors import (
    AuthError,
    BadResponseError,
    NotFoundError,
    OutOfWindowError,
    RateLimitError,
)

logger = logging.getLogger(__name__)

_KEY_PARAMS = {"x_cg_demo_api_key": "x-cg-demo-api-key", "x_cg_pro_api_key": "x-cg-pro-api-key"}
# CoinGecko status.error_code values (HTTP-200 or error bodies) that mean a bad/missing key.
_AUTH_CODES = {401, 403, 10002, 10005, 10010, 10011}
# "Your request exceeds the allowed time range": a range older than the plan serves. Sent with
# HTTP 401 and the status object nested in "error" (rotki#9211, ghostfolio#3231).
_WINDOW_CODE = 10012
# Days back the free/demo plan serves (https://docs.coingecko.com, "historical data ... 365 days").
DEMO_HISTORY_DAYS = 365


class _TypedSession:
    """The session pycoingecko sees: typed errors, key in a header, our timeout."""

    def __init__(self, session: requests.Session, timeout: float) -> None:
        self.session = session
        self.timeout = timeout

    def get(self, url: str, params: Mapping[str, Any] | None = None, **_: Any) -> requests.Response:
        query = dict(params or {})
        headers = {header: str(query.pop(param)) for param, header in _KEY_PARAMS.items()
                   if param in query}
        try:
            return get_response(self.session, url, query, headers, timeout=self.timeout,
                                provider=CoinGeckoAdapter.name)
        except AuthError as exc:
            # The 401 of an out-of-window range is about the range, not the key.
            if exc.status == 401 and _WINDOW_CODE_TEXT in str(exc):
                raise OutOfWindowError(str(exc), provider=exc.provider, status=exc.status,
                                       url_redacted=exc.url_redacted) from exc
            raise


_WINDOW_CODE_TEXT = "exceeds the allowed time range"


def check_body(payload: Any, *, what: str) -> None:
    """Raise the typed error for an error object inside a (200) body."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        payload = payload["error"]  # {"error": {"status": {...}}}, as the window error comes
    if isinstance(payload, dict) and isinstance(payload.get("status"), dict):
        status = payload["status"]
        code, text = status.get("error_code"), status.get("error_message") or ""
        if code:
            kw = {"provider": CoinGeckoAdapter.name}
            msg = f"coingecko: {what}: error {code}: {text}"
            if code == 429:
                raise RateLimitError(msg, **kw)
            if code == _WINDOW_CODE:
                raise OutOfWindowError(msg, **kw)
            if code in _AUTH_CODES:
                raise AuthError(msg, **kw)
            raise BadResponseError(msg, **kw)
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        raise NotFoundError(f"coingecko: {what}: {payload['error']}", provider="coingecko")


class CoinGeckoAdapter(PriceAdapter):
    """CoinGecko (https://docs.coingecko.com): quotes and 1d/1h history of crypto assets."""

    name: ClassVar[str] = "coingecko"
    intervals: ClassVar[frozenset[str]] = frozenset({"1d", "1h"})
    max_symbols_per_request: ClassVar[int] = 250

    def __init__(self, settings: Any, **kw: Any) -> None:
        super().__init__(settings, **kw)
        if self.plan == "pro" and self.api_key:
            self.client = CoinGeckoAPI(api_key=self.api_key, retries=0)
        else:
            self.client = CoinGeckoAPI(demo_api_key=self.api_key or "", retries=0)
        self.client.api_base_url = f"{self.base_url}/api/v3/"
        self.client.session = _TypedSession(self.session, self.timeout)

    def oldest_history_day(self, interval: str, today: date) -> date | None:
        """The demo/free plan serves 365 days back; pro serves everything.

        "365 days back" counts from the current second, so today's date minus 365 would start
        a few hours too early: the oldest whole day inside the window is 364 days back.
        """
        if self.plan == "pro" and self.api_key:
            return None
        return today - timedelta(days=DEMO_HISTORY_DAYS - 1)

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            payload = getattr(self.client, method)(*args, **kwargs)
        except ValueError as exc:  # pycoingecko's json.loads on a truncated body
            raise BadResponseError(f"coingecko: {what}: undecodable JSON",
                                   provider=self.name) from exc
        check_body(payload, what=what)
        return payload

    def fetch_quotes(self, symbols: Sequence[str]) -> list[Quote]:
        """One /simple/price call per 250 ids; ids CoinGecko does not know are left out."""
        quotes: list[Quote] = []
        for id_to_symbol in self.id_batches(symbols):
            payload = self._call("quotes", "get_price", ids=list(id_to_symbol),
                                 vs_currencies="usd", include_24hr_change=True,
                                 include_last_updated_at=True)
            quotes += self._parse_quotes(payload, id_to_symbol)
        return quotes

    @staticmethod
    def _parse_quotes(payload: Any, id_to_symbol: Mapping[str, str]) -> list[Quote]:
        """``{id: {usd, usd_24h_change, last_updated_at}}`` -> quotes (unknown ids absent)."""
        check_body(payload, what="quotes")
        if not isinstance(payload, dict):
            raise BadResponseError("coingecko: quotes: body is not an object", provider="coingecko")
        out = []
        for vendor_id, symbol in id_to_symbol.items():
            entry = payload.get(vendor_id)
            if not isinstance(entry, dict) or entry.get("usd") is None:
                continue
            updated = entry.get("last_updated_at")
            if updated is None:
                raise BadResponseError(f"coingecko: {symbol}: quote has no last_updated_at",
                                       provider="coingecko")
            change = entry.get("usd_24h_change")
            out.append(Quote(symbol=symbol, price_usd=float(entry["usd"]),
                             ts=datetime.fromtimestamp(int(updated), tz=timezone.utc),
                             source="coingecko",
                             change_24h_pct=None if change is None else float(change)))
        return out

    def lookup(self, vendor_id: str) -> Listing:
        """Name and price of a coin id from ``/coins/markets?ids=<id>`` (one small call).

        Raises:
            NotFoundError: CoinGecko does not know the id (it answers an empty list).
        """
        payload = self._call(f"lookup {vendor_id}", "get_coins_markets", vs_currency="usd",
                             ids=vendor_id)
        return self._parse_listing(payload, vendor_id)

    @staticmethod
    def _parse_listing(payload: Any, vendor_id: str) -> Listing:
        """``[{id, symbol, name, current_price}]`` -> the entry of ``vendor_id``."""
        check_body(payload, what=f"lookup {vendor_id}")
        if not isinstance(payload, list):
            raise BadResponseError("coingecko: coins/markets: body is not a list",
                                   provider="coingecko")
        entry = next((e for e in payload if isinstance(e, dict) and e.get("id") == vendor_id),
                     None)
        if entry is None:
            raise NotFoundError(f"coingecko: no coin with id {vendor_id!r}", provider="coingecko")
        if not isinstance(entry.get("name"), str):
            raise BadResponseError(f"coingecko: {vendor_id}: listing has no name",
                                   provider="coingecko")
        price = entry.get("current_price")
        ticker = entry.get("symbol")
        return Listing(provider="coingecko", vendor_id=vendor_id, name=entry["name"],
                       ticker=ticker.upper() if isinstance(ticker, str) else None, kind="crypto",
                       price_usd=None if price is None else float(price))

    def fetch_history(self, symbol: str, start: datetime, end: datetime,
                      interval: str = "1d") -> pd.DataFrame:
        """Prices of /coins/{id}/market_chart/range between start and end (inclusive)."""
        self.check_interval(interval)
        what = f"{symbol} {interval} {start:%Y-%m-%d}..{end:%Y-%m-%d}"
        # One second past the end: the next midnight's point is the last date's close.
        to = pd.Timestamp(end) + pd.Timedelta(seconds=1)
        payload = self._call(what, "get_coin_market_chart_range_by_id", self.vendor_id(symbol),
                             "usd", int(pd.Timestamp(start).timestamp()), int(to.timestamp()))
        return self.bars_in_range(self._parse_history(payload, symbol, interval), symbol,
                                  start, end, interval)

    @staticmethod
    def _parse_history(payload: Any, symbol: str, interval: str) -> pd.DataFrame:
        """``{prices: [[ms, p]], total_volumes: [[ms, v]]}`` -> bars (last price per bar)."""
        check_body(payload, what=f"{symbol} history")
        if not isinstance(payload, dict) or not isinstance(payload.get("prices"), list):
            raise BadResponseError(f"coingecko: {symbol}: history has no prices array",
                                   provider="coingecko")
        try:
            prices = pd.DataFrame(payload["prices"], columns=["ms", "close"], dtype="float64")
            volumes = pd.DataFrame(payload.get("total_volumes") or [], columns=["ms", "volume"],
                                   dtype="float64")
        except (ValueError, TypeError) as exc:
            raise BadResponseError(f"coingecko: {symbol}: malformed history points",
                                   provider="coingecko") from exc
        merged = prices.merge(volumes, on="ms", how="left")
        ts = pd.to_datetime(merged["ms"].astype("int64"), unit="ms", utc=True)
        if interval == "1h":
            ts = ts.dt.floor("h")
        else:  # a midnight point closes the previous date: key it 1 ms earlier
            ts = (ts - pd.Timedelta(milliseconds=1)).dt.floor("D")
        return make_price_frame(ts, symbol=symbol, source="coingecko", close=merged["close"],
                                volume=merged["volume"], daily=interval == "1d")


__all__ = ["CoinGeckoAdapter", "check_body", "redact_url"]
