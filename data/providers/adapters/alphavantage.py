"""Alpha Vantage adapter: equities/ETFs, one symbol per call (the API has no batch quote).

Source: https://www.alphavantage.co/documentation/

Every call is ``{base_url}/query?function=...&apikey=KEY`` (the key is masked in messages).
Quotes: GLOBAL_QUOTE (price of the latest trading day; the body has the day, not the time, so
the quote's ts is that day at 00:00 UTC, never newer than the price). History: TIME_SERIES_DAILY
(``1d``, bars keyed by trading date; ``outputsize=compact`` = last 100 days on the free plan,
``full`` when plan is pro) and TIME_SERIES_INTRADAY (``1h`` = 60min, ``1m`` = 1min; exchange
times in US/Eastern converted to UTC). Crypto is not used from Alpha Vantage.

Alpha Vantage reports every error with HTTP 200: ``Note`` / ``Information`` about call
frequency or the daily quota -> RateLimitError (daily: ``retry_after`` = 1 day, so retries stop),
``Information`` about a key or premium endpoint -> AuthError, ``Error Message`` (invalid call or
symbol, missing key) -> BadResponseError/AuthError.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import pandas as pd

from data.providers.adapters.base import PriceAdapter, Quote, make_price_frame
from errors import AuthError, BadResponseError, NotFoundError, RateLimitError
from redaction import clip

logger = logging.getLogger(__name__)

_DAY = 86400.0
_INTRADAY = {"1h": "60min", "1m": "1min"}


def check_body(payload: Any, *, what: str) -> None:
    """Raise the typed error hidden in an HTTP-200 body (Note, Information, Error Message)."""
    if not isinstance(payload, dict):
        raise BadResponseError(f"alphavantage: {what}: body is not an object",
                               provider="alphavantage")
    kw = {"provider": "alphavantage", "status": 200}
    note = payload.get("Note") or payload.get("Information")
    if note:
        text = str(note)
        # Order matters: the burst message also mentions the daily limit in passing.
        if re.search(r"frequency|spreading out|per minute", text, re.I):
            raise RateLimitError(f"alphavantage: {what}: call frequency limit", **kw)
        if re.search(r"per day|daily", text, re.I):
            raise RateLimitError(f"alphavantage: {what}: daily request quota exhausted",
                                 retry_after=_DAY, **kw)
        if re.search(r"rate limit", text, re.I):
            raise RateLimitError(f"alphavantage: {what}: rate limited", **kw)
        if re.search(r"api ?key|premium", text, re.I):
            raise AuthError(f"alphavantage: {what}: {clip(text, 100)}", **kw)
        raise BadResponseError(f"alphavantage: {what}: {clip(text, 100)}", **kw)
    error = payload.get("Error Message")
    if error:
        if re.search(r"apikey", str(error), re.I):
            raise AuthError(f"alphavantage: {what}: API key invalid or missing", **kw)
        raise BadResponseError(f"alphavantage: {what}: {clip(str(error), 120)}", **kw)


def _field(row: dict, name: str) -> Any:
    """Value of a numbered field ("1. open", "05. price") by its name."""
    for key, value in row.items():
        if key.split(". ", 1)[-1] == name:
            return value
    return None


class AlphaVantageAdapter(PriceAdapter):
    """Alpha Vantage (https://www.alphavantage.co/documentation/): quotes and 1d/1h/1m history."""

    name: ClassVar[str] = "alphavantage"
    intervals: ClassVar[frozenset[str]] = frozenset({"1d", "1h", "1m"})
    max_symbols_per_request: ClassVar[int] = 1

    def oldest_history_day(self, interval: str, today: date) -> date | None:
        """Free plan: ``compact`` daily = the last 100 trading days (about 140 calendar days)."""
        if interval == "1d" and self.plan != "pro":
            return today - timedelta(days=140)
        return None

    def _query(self, params: dict[str, str]) -> tuple[str, dict, dict]:
        return f"{self.base_url}/query", {**params, "apikey": self.api_key or ""}, {}

    def _quote_request(self, symbol: str) -> tuple[str, dict, dict]:
        return self._query({"function": "GLOBAL_QUOTE", "symbol": self.vendor_id(symbol)})

    def _history_request(self, symbol: str, interval: str) -> tuple[str, dict, dict]:
        size = "full" if self.plan == "pro" else "compact"
        if interval == "1d":
            return self._query({"function": "TIME_SERIES_DAILY", "symbol": self.vendor_id(symbol),
                                "outputsize": size})
        return self._query({"function": "TIME_SERIES_INTRADAY", "symbol": self.vendor_id(symbol),
                            "interval": _INTRADAY[interval], "outputsize": "full"})

    def fetch_quotes(self, symbols: Sequence[str]) -> list[Quote]:
        """One GLOBAL_QUOTE call per symbol; unknown symbols (empty quote) are left out."""
        out = []
        for symbol in symbols:
            try:
                out.append(self._parse_quote(self._get(*self._quote_request(symbol)), symbol))
            except NotFoundError:
                logger.info("alphavantage: no quote for %s", symbol)
        return out

    @staticmethod
    def _parse_quote(payload: Any, symbol: str) -> Quote:
        """``{"Global Quote": {"05. price", "07. latest trading day", ...}}`` -> Quote."""
        check_body(payload, what=f"{symbol} quote")
        row = payload.get("Global Quote")
        if not isinstance(row, dict):
            raise BadResponseError(f"alphavantage: {symbol}: no Global Quote object",
                                   provider="alphavantage")
        if not row:
            raise NotFoundError(f"alphavantage: unknown symbol {symbol}", provider="alphavantage")
        try:
            price = float(_field(row, "price"))
            day = pd.Timestamp(_field(row, "latest trading day"), tz="UTC")
            change = _field(row, "change percent")
            pct = float(str(change).rstrip("%")) if change not in (None, "") else None
        except (TypeError, ValueError) as exc:
            raise BadResponseError(f"alphavantage: {symbol}: malformed quote",
                                   provider="alphavantage") from exc
        return Quote(symbol=symbol, price_usd=price, ts=day.to_pydatetime(),
                     source="alphavantage", change_24h_pct=pct)

    def fetch_history(self, symbol: str, start: datetime, end: datetime,
                      interval: str = "1d") -> pd.DataFrame:
        """Daily or intraday bars between start and end (inclusive, UTC)."""
        self.check_interval(interval)
        payload = self._get(*self._history_request(symbol, interval))
        return self.bars_in_range(self._parse_history(payload, symbol, interval), symbol,
                                  start, end, interval)

    @staticmethod
    def _parse_history(payload: Any, symbol: str, interval: str) -> pd.DataFrame:
        """``{"Meta Data": {...}, "Time Series (...)": {stamp: {"1. open", ...}}}`` -> bars."""
        check_body(payload, what=f"{symbol} {interval} history")
        series_key = next((k for k in payload if k.startswith("Time Series")), None)
        if series_key is None or not isinstance(payload[series_key], dict):
            raise BadResponseError(f"alphavantage: {symbol}: no Time Series object",
                                   provider="alphavantage")
        series = payload[series_key]
        meta = payload.get("Meta Data") or {}
        zone = next((v for k, v in meta.items() if k.endswith("Time Zone")), "US/Eastern")
        stamps = pd.to_datetime(pd.Series(list(series.keys())), errors="coerce")
        if stamps.isna().any():
            raise BadResponseError(f"alphavantage: {symbol}: unreadable timestamps",
                                   provider="alphavantage")
        if interval == "1d":  # trading dates, keyed by the UTC date
            stamps = stamps.dt.tz_localize("UTC")
        else:
            stamps = stamps.dt.tz_localize(zone).dt.tz_convert("UTC")
        rows = list(series.values())
        return make_price_frame(stamps, symbol=symbol, source="alphavantage",
                                open=[_field(r, "open") for r in rows],
                                high=[_field(r, "high") for r in rows],
                                low=[_field(r, "low") for r in rows],
                                close=[_field(r, "close") for r in rows],
                                volume=[_field(r, "volume") for r in rows],
                                daily=interval == "1d")
