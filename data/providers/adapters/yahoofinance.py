"""Yahoo Finance adapter through yfinance's HTTP layer (cookie, crumb and consent handling).

Source: https://github.com/ranaroussi/yfinance (Yahoo's endpoints are undocumented).

Quotes: one ``{base_url}/v7/finance/quote?symbols=A,B,C`` call for many tickers (needs a crumb,
which yfinance obtains: cookie from ``fc.yahoo.com``, crumb from ``/v1/test/getcrumb``, the
``guce.yahoo.com`` consent flow as fallback). History: ``{base_url}/v8/finance/chart/{ticker}``
with ``period1``/``period2``; ``1d`` bars are keyed by their exchange-local trading date, ``1h``
and ``1m`` by bar start in UTC. Yahoo's windows: ``1m`` only for the last 30 days and at most 8
days per request, ``1h`` for the last 730 days (older requests answer an error object, mapped to
BadResponseError). Nulls inside the chart arrays (halted bars) are dropped.

The seam: each adapter owns a private ``yfinance.data.YfData`` (not the library's process-wide
singleton, so two adapters never share crumbs or sessions) built on a host-rewriting session
that sends every request yfinance makes to a ``*.yahoo.com`` host (chart, quote, fc, getcrumb,
guce/consent) to ``base_url`` instead, when ``base_url`` is not itself a Yahoo host. Like
yfinance, it is a curl_cffi session impersonating Chrome when curl_cffi is installed (Yahoo
throttles plain clients), else a ``requests.Session`` with a browser User-Agent. With Yahoo's
own host the library's hosts are kept, since the cookie only comes from fc.yahoo.com.
yfinance's on-disk cookie cache is disabled for these instances so a run never mixes cookies
between servers. The chart JSON is parsed here (``_parse_history``), the
same way for every adapter, instead of ``Ticker.history``'s repaired, exchange-tz frames.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import requests
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError

from data.models import Listing
from data.providers.adapters.base import PriceAdapter, Quote, make_price_frame
from data.providers.http import decode_json, raise_for_status, redact_url, short_url
from errors import (
    AuthError,
    BadResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
)

try:  # yfinance's preferred client; optional there, so optional here
    from curl_cffi import requests as curl_requests
except ImportError:  # pragma: no cover - depends on the installation
    curl_requests = None

logger = logging.getLogger(__name__)


def _is_yahoo(host: str | None) -> bool:
    return bool(host) and (host == "yahoo.com" or host.endswith(".yahoo.com"))


_BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
               "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
# Transport errors of both session kinds (curl_cffi's derive from OSError, as requests' do).
_TIMEOUTS: tuple[type[BaseException], ...] = (requests.Timeout, TimeoutError)
if curl_requests is not None:
    _TIMEOUTS += (curl_requests.exceptions.Timeout,)


class _RewriteHost:
    """Mixin for a session class: every ``*.yahoo.com`` URL goes to one origin instead.

    It also holds each adapter call to one time budget: yfinance's cookie and crumb steps
    ignore the caller's timeout (30 s each, several steps), so an unresponsive server would
    hold a job for minutes. Every request made while a deadline is set (per thread: jobs share
    the adapter) gets at most the time left, and none is sent once it has run out.
    """

    origin: Any
    rewrite: bool
    _budget: threading.local

    def _set_origin(self, base_url: str) -> None:
        self.origin = urlsplit(base_url)
        self.rewrite = not _is_yahoo(self.origin.hostname)
        self._budget = threading.local()

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Requests made inside the block (this thread) share ``seconds`` in total."""
        self._budget.until = time.monotonic() + seconds
        try:
            yield
        finally:
            self._budget.until = None

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        """Replace scheme and host of Yahoo URLs by the configured origin, then send."""
        parts = urlsplit(str(url))
        until = getattr(self._budget, "until", None)
        if until is not None:
            left = until - time.monotonic()
            if left <= 0:
                raise _BudgetSpent(f"no time left for {parts.path or '/'}")
            kwargs["timeout"] = min(float(kwargs.get("timeout") or left), left)
        if self.rewrite and _is_yahoo(parts.hostname):
            url = urlunsplit(parts._replace(scheme=self.origin.scheme, netloc=self.origin.netloc))
        return super().request(method, url, *args, **kwargs)  # type: ignore[misc]


class _BudgetSpent(TimeoutError):
    """An adapter call's time budget ran out between two of yfinance's requests."""


class HostRewritingSession(_RewriteHost, requests.Session):
    """requests flavour (used when curl_cffi is missing)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._set_origin(base_url)
        self.headers.update({"User-Agent": _BROWSER_UA,
                             "Accept-Language": "en-US,en;q=0.5"})


def make_session(base_url: str) -> Any:
    """The session yfinance gets: curl_cffi impersonating Chrome if available, else requests."""
    if curl_requests is None:
        return HostRewritingSession(base_url)

    class CurlHostRewritingSession(_RewriteHost, curl_requests.Session):
        """curl_cffi flavour (yfinance's default client)."""

    session = CurlHostRewritingSession(impersonate="chrome")
    session._set_origin(base_url)
    return session


def _private_yfdata(session: Any) -> YfData:
    """A YfData of our own (bypassing the library singleton), without the disk cookie cache."""
    data = YfData.__new__(YfData)
    data.__init__(session=session)
    data._load_cookie_curlCffi = lambda: False  # never read cookies saved by other runs

    def keep_in_session() -> bool:
        # Instead of writing the cookie to disk, remember that the session jar holds it, so
        # yfinance does not fetch it again for the crumb.
        data._cookie = True
        return True

    data._save_cookie_curlCffi = keep_in_session
    return data


def _check_error(obj: Any, *, what: str) -> None:
    """Raise for Yahoo's ``{"error": {"code", "description"}}`` inside chart/quote bodies."""
    error = obj.get("error") if isinstance(obj, dict) else None
    if not error:
        return
    code, text = str(error.get("code", "")), str(error.get("description", ""))
    msg = f"yahoo: {what}: {code}: {text}"
    if code == "Not Found":
        raise NotFoundError(msg, provider="yahoo")
    if code == "Unauthorized":
        raise AuthError(msg, provider="yahoo")
    if code == "Too Many Requests":
        raise RateLimitError(msg, provider="yahoo")
    raise BadResponseError(msg, provider="yahoo")


# Yahoo's quoteType -> our asset class (a fund or an index trades on exchange days, as stocks).
_KINDS = {"CRYPTOCURRENCY": "crypto", "EQUITY": "equity", "ETF": "equity",
          "MUTUALFUND": "equity", "INDEX": "equity"}


class YahooFinanceAdapter(PriceAdapter):
    """Yahoo Finance via yfinance: batched quotes and 1d/1h/1m history of any ticker."""

    name: ClassVar[str] = "yahoo"
    intervals: ClassVar[frozenset[str]] = frozenset({"1d", "1h", "1m"})
    max_symbols_per_request: ClassVar[int] = 50

    def __init__(self, settings: Any, **kw: Any) -> None:
        super().__init__(settings, **kw)
        # The injected session is not used: yfinance needs the rewriting session it owns.
        self.http = make_session(self.base_url)
        self.yfdata = _private_yfdata(self.http)

    def _get(self, url: str, params: dict | None = None, headers: dict | None = None) -> Any:
        shown, where = redact_url(url, params), short_url(url)
        try:
            with self.http.deadline(self.timeout):
                response = self.yfdata.get(url, params=params, timeout=self.timeout)
        except YFRateLimitError as exc:
            raise RateLimitError(f"yahoo: rate limited on {where}", provider="yahoo",
                                 status=429, url_redacted=shown) from exc
        except _TIMEOUTS as exc:
            raise TransientError(f"yahoo: timed out after {self.timeout:g}s on {where}",
                                 provider="yahoo", url_redacted=shown) from exc
        except OSError as exc:  # requests and curl_cffi transport errors
            raise TransientError(f"yahoo: request failed on {where}: {exc.__class__.__name__}",
                                 provider="yahoo", url_redacted=shown) from exc
        shown = redact_url(response.url or url)
        if response.status_code >= 400:
            try:  # Yahoo's error object names the problem better than the status
                _check_error(next(iter(response.json().values()), None), what=short_url(shown))
            except (ValueError, AttributeError):
                pass
        raise_for_status(response, provider="yahoo", url_redacted=shown)
        return decode_json(response, provider="yahoo", url_redacted=shown)

    def _quotes_request(self, tickers: Sequence[str]) -> tuple[str, dict, dict]:
        return f"{self.base_url}/v7/finance/quote", {"symbols": ",".join(tickers)}, {}

    def _history_request(self, symbol: str, start: datetime, end: datetime,
                         interval: str) -> tuple[str, dict, dict]:
        # period2 is exclusive at Yahoo; end is inclusive here.
        period2 = pd.Timestamp(end) + timedelta(seconds=1)
        params = {"period1": int(pd.Timestamp(start).timestamp()),
                  "period2": int(period2.timestamp()),
                  "interval": interval, "includePrePost": "false", "events": "div,splits"}
        return f"{self.base_url}/v8/finance/chart/{self.vendor_id(symbol)}", params, {}

    def fetch_quotes(self, symbols: Sequence[str]) -> list[Quote]:
        """One /v7/finance/quote call per 50 tickers; unknown tickers are left out."""
        quotes: list[Quote] = []
        for by_ticker in self.id_batches(symbols):
            payload = self._get(*self._quotes_request(list(by_ticker))[:2])
            quotes += self._parse_quotes(payload, by_ticker)
        return quotes

    @staticmethod
    def _parse_quotes(payload: Any, by_ticker: dict[str, str]) -> list[Quote]:
        """``quoteResponse.result[{symbol, regularMarketPrice, regularMarketTime}]`` -> quotes."""
        body = payload.get("quoteResponse") if isinstance(payload, dict) else None
        if not isinstance(body, dict):
            _check_error((payload or {}).get("finance") if isinstance(payload, dict) else None,
                         what="quotes")
            raise BadResponseError("yahoo: quotes: no quoteResponse object", provider="yahoo")
        _check_error(body, what="quotes")
        out = []
        for row in body.get("result") or []:
            symbol = by_ticker.get(row.get("symbol"))
            price, when = row.get("regularMarketPrice"), row.get("regularMarketTime")
            if symbol is None or price is None or when is None:
                continue
            change = row.get("regularMarketChangePercent")
            out.append(Quote(symbol=symbol, price_usd=float(price),
                             ts=datetime.fromtimestamp(int(when), tz=timezone.utc), source="yahoo",
                             change_24h_pct=None if change is None else float(change)))
        return out

    def lookup(self, vendor_id: str) -> Listing:
        """Name, asset class and price of a ticker from one /v7/finance/quote call.

        Raises:
            NotFoundError: Yahoo does not know the ticker (it answers an empty result).
        """
        payload = self._get(*self._quotes_request([vendor_id])[:2])
        return self._parse_listing(payload, vendor_id)

    @staticmethod
    def _parse_listing(payload: Any, vendor_id: str) -> Listing:
        """``quoteResponse.result[{symbol, longName, shortName, quoteType, ...}]`` -> listing."""
        body = payload.get("quoteResponse") if isinstance(payload, dict) else None
        if not isinstance(body, dict):
            raise BadResponseError("yahoo: lookup: no quoteResponse object", provider="yahoo")
        _check_error(body, what=f"lookup {vendor_id}")
        row = next((r for r in body.get("result") or []
                    if isinstance(r, dict) and r.get("symbol") == vendor_id), None)
        if row is None:
            raise NotFoundError(f"yahoo: no ticker {vendor_id!r}", provider="yahoo")
        name = row.get("longName") or row.get("shortName") or vendor_id
        kind = _KINDS.get(str(row.get("quoteType", "")).upper())
        price = row.get("regularMarketPrice")
        ticker = row.get("fromCurrency") if kind == "crypto" else vendor_id
        return Listing(provider="yahoo", vendor_id=vendor_id, name=str(name),
                       ticker=ticker if isinstance(ticker, str) else None, kind=kind,
                       price_usd=None if price is None else float(price))

    def fetch_history(self, symbol: str, start: datetime, end: datetime,
                      interval: str = "1d") -> pd.DataFrame:
        """Chart bars between start and end (inclusive, UTC)."""
        self.check_interval(interval)
        payload = self._get(*self._history_request(symbol, start, end, interval)[:2])
        return self.bars_in_range(self._parse_history(payload, symbol, interval), symbol,
                                  start, end, interval)

    @staticmethod
    def _parse_history(payload: Any, symbol: str, interval: str) -> pd.DataFrame:
        """``chart.result[0].{timestamp, indicators.quote[0].{open,...}}`` -> bars."""
        chart = payload.get("chart") if isinstance(payload, dict) else None
        if not isinstance(chart, dict):
            raise BadResponseError(f"yahoo: {symbol}: no chart object", provider="yahoo")
        _check_error(chart, what=f"{symbol} chart")
        results = chart.get("result") or []
        if not results or not isinstance(results[0], dict):
            raise BadResponseError(f"yahoo: {symbol}: empty chart result", provider="yahoo")
        result = results[0]
        stamps = result.get("timestamp") or []
        quote = ((result.get("indicators") or {}).get("quote") or [{}])[0] or {}
        if not stamps:
            return make_price_frame([], symbol=symbol, source="yahoo", close=[])
        columns = {k: quote.get(k) or [None] * len(stamps)
                   for k in ("open", "high", "low", "close", "volume")}
        if any(len(v) != len(stamps) for v in columns.values()):
            raise BadResponseError(f"yahoo: {symbol}: chart arrays differ in length",
                                   provider="yahoo")
        ts = pd.to_datetime(pd.Series(stamps, dtype="int64"), unit="s", utc=True)
        if interval == "1d":  # key by the exchange-local trading date (equities open 09:30 ET)
            zone = (result.get("meta") or {}).get("exchangeTimezoneName") or "UTC"
            ts = ts.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize().dt.tz_localize("UTC")
        return make_price_frame(ts, symbol=symbol, source="yahoo", **columns,
                                daily=interval == "1d")
