"""CoinMarketCap adapter: latest quotes of many ids in one /v2/cryptocurrency/quotes/latest call.

Source: https://coinmarketcap.com/api/documentation/v1/#operation/getV2CryptocurrencyQuotesLatest

Ids are CMC's numeric ids kept as text in config ("1" = BTC). The key goes in the
``X-CMC_PRO_API_KEY`` header (never in the URL). Errors come as ``status.error_code`` in the body,
with HTTP 200 or 4xx: 1001/1002 (invalid/missing key) -> AuthError, 1008-1011 (minute, daily,
monthly, IP limits) -> RateLimitError, anything else -> BadResponseError.

History (``/v2/cryptocurrency/ohlcv/historical``, ``1d`` and ``1h`` OHLCV bars) is on paid plans
only: it is offered when ``sources.coinmarketcap.plan`` is ``pro``; otherwise the adapter offers
quotes only, ``fetch_history`` raises InvalidInputError and the registry uses the asset's next
provider.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import pandas as pd

from data.providers.adapters.base import PriceAdapter, Quote, make_price_frame
from errors import (
    AuthError,
    BadResponseError,
    InvalidInputError,
    RateLimitError,
)

logger = logging.getLogger(__name__)

QUOTES_PATH = "/v2/cryptocurrency/quotes/latest"
OHLCV_PATH = "/v2/cryptocurrency/ohlcv/historical"
_PERIODS = {"1d": "daily", "1h": "hourly"}
_AUTH_CODES = {1001, 1002, 1003, 1004, 1005, 1006, 1007}
_LIMIT_CODES = {1008, 1009, 1010, 1011}


def check_status(payload: Any, *, what: str) -> None:
    """Raise the typed error for a non-zero ``status.error_code``."""
    status = payload.get("status") if isinstance(payload, dict) else None
    if not isinstance(status, dict):
        raise BadResponseError(f"coinmarketcap: {what}: body has no status object",
                               provider="coinmarketcap")
    code = status.get("error_code") or 0
    if int(code) == 0:
        return
    msg = f"coinmarketcap: {what}: error {code}: {status.get('error_message') or ''}"
    if int(code) in _AUTH_CODES:
        raise AuthError(msg, provider="coinmarketcap")
    if int(code) in _LIMIT_CODES:
        raise RateLimitError(msg, provider="coinmarketcap")
    raise BadResponseError(msg, provider="coinmarketcap")


class CoinMarketCapAdapter(PriceAdapter):
    """CoinMarketCap (https://coinmarketcap.com/api/documentation/v1/): quotes only."""

    name: ClassVar[str] = "coinmarketcap"
    capabilities: ClassVar[frozenset[str]] = frozenset({"quotes"})
    intervals: ClassVar[frozenset[str]] = frozenset()
    max_symbols_per_request: ClassVar[int] = 100

    def __init__(self, settings: Any, **kw: Any) -> None:
        super().__init__(settings, **kw)
        if self.plan == "pro":  # history is a paid feature
            self.capabilities = frozenset({"quotes", "history"})
            self.intervals = frozenset(_PERIODS)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["X-CMC_PRO_API_KEY"] = self.api_key
        return headers

    def _quotes_request(self, ids: Sequence[str]) -> tuple[str, dict, dict]:
        """URL, params and headers of one quotes/latest call for many ids."""
        headers = self._headers()
        # skip_invalid: an unknown id is left out instead of failing the whole batch.
        params = {"id": ",".join(ids), "convert": "USD", "skip_invalid": "true"}
        return f"{self.base_url}{QUOTES_PATH}", params, headers

    def fetch_quotes(self, symbols: Sequence[str]) -> list[Quote]:
        """One call per 100 ids; ids CMC does not return are left out."""
        quotes: list[Quote] = []
        for id_to_symbol in self.id_batches(symbols):
            payload = self._get(*self._quotes_request(list(id_to_symbol)))
            quotes += self._parse_quotes(payload, id_to_symbol)
        return quotes

    @staticmethod
    def _parse_quotes(payload: Any, id_to_symbol: Mapping[str, str]) -> list[Quote]:
        """``data[id].quote.USD.{price, percent_change_24h, last_updated}`` -> quotes."""
        check_status(payload, what="quotes")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise BadResponseError("coinmarketcap: quotes: body has no data object",
                                   provider="coinmarketcap")
        out = []
        for vendor_id, symbol in id_to_symbol.items():
            entry = data.get(vendor_id)
            if isinstance(entry, list):  # by-symbol lookups return an array per symbol
                entry = entry[0] if entry else None
            usd = ((entry or {}).get("quote") or {}).get("USD") if isinstance(entry, dict) else None
            if not isinstance(usd, dict) or usd.get("price") is None:
                continue
            stamp = usd.get("last_updated") or entry.get("last_updated")
            if not stamp:
                raise BadResponseError(f"coinmarketcap: {symbol}: quote has no last_updated",
                                       provider="coinmarketcap")
            change = usd.get("percent_change_24h")
            out.append(Quote(symbol=symbol, price_usd=float(usd["price"]),
                             ts=pd.Timestamp(stamp).tz_convert("UTC").to_pydatetime(),
                             source="coinmarketcap",
                             change_24h_pct=None if change is None else float(change)))
        return out

    def _history_request(self, symbol: str, start: datetime, end: datetime,
                         interval: str) -> tuple[str, dict, dict]:
        period = _PERIODS[interval]
        params = {"id": self.vendor_id(symbol), "time_period": period, "interval": period,
                  "time_start": pd.Timestamp(start).isoformat(),
                  "time_end": pd.Timestamp(end).isoformat(), "convert": "USD"}
        return f"{self.base_url}{OHLCV_PATH}", params, self._headers()

    def fetch_history(self, symbol: str, start: datetime, end: datetime,
                      interval: str = "1d") -> pd.DataFrame:
        """OHLCV bars (pro plan only; otherwise InvalidInputError)."""
        if "history" not in self.capabilities:
            raise InvalidInputError("coinmarketcap: history needs a paid plan (plan: pro)")
        self.check_interval(interval)
        payload = self._get(*self._history_request(symbol, start, end, interval))
        frame = self._parse_history(payload, symbol, self.vendor_id(symbol), interval)
        return self.bars_in_range(frame, symbol, start, end, interval)

    @staticmethod
    def _parse_history(payload: Any, symbol: str, vendor_id: str, interval: str) -> pd.DataFrame:
        """``data.quotes[{time_open, quote.USD.{open,high,low,close,volume}}]`` -> bars."""
        check_status(payload, what=f"{symbol} history")
        data = payload.get("data")
        if isinstance(data, dict) and "quotes" not in data:
            data = data.get(vendor_id)  # keyed by id when several ids were asked
        if not isinstance(data, dict) or not isinstance(data.get("quotes"), list):
            raise BadResponseError(f"coinmarketcap: {symbol}: history has no quotes array",
                                   provider="coinmarketcap")
        rows = [(q.get("time_open"), (q.get("quote") or {}).get("USD") or {})
                for q in data["quotes"]]
        return make_price_frame([t for t, _ in rows], symbol=symbol, source="coinmarketcap",
                                open=[u.get("open") for _, u in rows],
                                high=[u.get("high") for _, u in rows],
                                low=[u.get("low") for _, u in rows],
                                close=[u.get("close") for _, u in rows],
                                volume=[u.get("volume") for _, u in rows],
                                daily=interval == "1d")
