"""Adapters behind rate limits, retries, circuit breakers, the cache and per-asset fallback.

``build_registry(settings, environ)`` makes one adapter per enabled source (a source that needs
a key and has none is skipped with a notice) and wraps them in a ``Registry``:

* ``fetch_quotes(symbols, now=)``: fresh cached quotes first (no HTTP), then one batched call
  per provider for the symbols whose next source it is, falling down each asset's configured
  chain for what is missing or failed; when everything fails a cached quote is served (flagged
  stale past the stale-if-error window).
* ``fetch_history(symbol, start, end, interval, now=)``: cached window or the first source of
  the chain that offers the interval and answers.

Every HTTP call takes a rate-limit slot, is retried on transient errors, and feeds the
provider's circuit breaker; an open breaker skips the provider until its reset time.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
import requests

from data.models import Quote
from data.providers.adapters.alphavantage import AlphaVantageAdapter
from data.providers.adapters.base import PriceAdapter
from data.providers.adapters.coingecko import CoinGeckoAdapter
from data.providers.adapters.coinmarketcap import CoinMarketCapAdapter
from data.providers.adapters.yahoofinance import YahooFinanceAdapter
from data.providers.cache import PriceCache
from data.providers.ratelimit import ProviderRateLimiter, rates_from_settings
from data.providers.resilience import CircuitBreaker, RetryPolicy, call_with_retries
from errors import (
    AuthError,
    BadResponseError,
    BudgetExhaustedError,
    DataError,
    EmptyDataError,
    InvalidInputError,
    ProviderError,
    TransientError,
)
from redaction import clip

logger = logging.getLogger(__name__)

T = TypeVar("T")

ADAPTERS: dict[str, type[PriceAdapter]] = {
    "coingecko": CoinGeckoAdapter, "coinmarketcap": CoinMarketCapAdapter,
    "alphavantage": AlphaVantageAdapter, "yahoo": YahooFinanceAdapter,
}
# Errors that say the provider is unwell (count towards its breaker), not just this symbol.
_PROVIDER_FAULTS = (TransientError, AuthError, BadResponseError)


@dataclass(frozen=True)
class QuoteResult:
    """Outcome for one symbol: a quote (maybe from cache, maybe stale) or the reasons why not."""

    symbol: str
    quote: Quote | None
    source: str | None = None
    from_cache: bool = False
    stale: bool = False
    error: str | None = None


@dataclass(frozen=True)
class HistoryResult:
    """Bars of one symbol and the provider that served them."""

    frame: pd.DataFrame
    source: str
    from_cache: bool = False


def one_line(exc: BaseException) -> str:
    """An error as one short line (no traceback, no newlines)."""
    return clip(" ".join(str(exc).split()), 600) or exc.__class__.__name__


@dataclass
class Registry:
    """The adapters of a deployment with their shared guards (see module docstring)."""

    adapters: Mapping[str, PriceAdapter]
    chains: Mapping[str, Sequence[str]]
    limiter: ProviderRateLimiter | None = None
    cache: PriceCache | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_failures: int = 3
    breaker_reset_seconds: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    notices: list[str] = field(default_factory=list)
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    outcomes: dict[str, tuple[bool, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.adapters:
            self.breakers.setdefault(name, CircuitBreaker(
                failures=self.breaker_failures, reset_seconds=self.breaker_reset_seconds,
                clock=self.clock))

    def sources_for(self, symbol: str, capability: str, interval: str | None = None) -> list[str]:
        """The asset's configured fallback chain, limited to enabled adapters offering it."""
        return [s for s in self.chains.get(symbol, ()) if s in self.adapters
                and self.adapters[s].supports(capability, interval)]

    def _guarded(self, provider: str, fn: Callable[[], T]) -> T:
        """Breaker check, then rate-limited retried call; outcome fed to the breaker."""
        breaker = self.breakers[provider]
        if not breaker.allow():
            raise TransientError(f"{provider}: skipped, circuit open after repeated failures",
                                 provider=provider)

        def attempt() -> T:
            if self.limiter is not None:
                self.limiter.acquire(provider)
            return fn()

        try:
            result = call_with_retries(attempt, self.policy, sleep=self.sleep)
        except BudgetExhaustedError:
            raise  # our own budget, not the provider's health: no breaker, no health record
        except _PROVIDER_FAULTS as exc:
            breaker.record_failure()
            self._report(provider, False, one_line(exc))
            raise
        except DataError:
            breaker.record_success()  # the provider answered; the symbol was the problem
            self._report(provider, True, None)
            raise
        breaker.record_success()
        self._report(provider, True, None)
        return result

    def _report(self, provider: str, ok: bool, error: str | None) -> None:
        self.outcomes[provider] = (ok, error)

    def drain_outcomes(self) -> dict[str, tuple[bool, str | None]]:
        """Last outcome (ok, error) per provider since the previous drain (for source health)."""
        outcomes, self.outcomes = self.outcomes, {}
        return outcomes

    # ---- quotes ---------------------------------------------------------------------------
    def fetch_quotes(self, symbols: Sequence[str], *, now: datetime,
                     max_age: float | None = None) -> dict[str, QuoteResult]:
        """Latest quote per symbol through cache, batching and fallback (never raises DataError).

        ``max_age``: seconds a cached quote counts as fresh (default: the cache's quote TTL).
        The quote job passes less than its period, so it never finds its own last fetch fresh.
        """
        results, chains = self._fresh_from_cache(symbols, now, max_age)
        errors: dict[str, list[str]] = defaultdict(list)
        for symbol in (s for s, chain in chains.items() if not chain):
            errors[symbol].append("no enabled source offers quotes for it")
        while any(chains.values()):
            # One round: every unresolved symbol goes to the next source of its own chain,
            # and each source gets all its symbols of the round in one batched call.
            groups: dict[str, list[str]] = defaultdict(list)
            for symbol, chain in ((s, c) for s, c in chains.items() if c):
                groups[chain.pop(0)].append(symbol)
            for provider, group in groups.items():
                for got in self._quotes_from(provider, group, errors):
                    results[got.symbol] = QuoteResult(got.symbol, got, provider)
                    chains[got.symbol] = []
                    if self.cache is not None:
                        self.cache.put_quote(got, fetched_at=now)
        missing = [s for s in chains if s not in results]
        results.update({s: self._quote_fallback(s, errors[s], now) for s in missing})
        return results

    def _fresh_from_cache(self, symbols: Sequence[str], now: datetime, max_age: float | None
                          ) -> tuple[dict[str, QuoteResult], dict[str, list[str]]]:
        """Fresh cached quotes, and the source chains of the symbols still to fetch."""
        results: dict[str, QuoteResult] = {}
        chains: dict[str, list[str]] = {}
        for symbol in dict.fromkeys(symbols):
            cached = (self.cache.fresh_quote(symbol, now=now, max_age=max_age)
                      if self.cache else None)
            if cached is not None:
                results[symbol] = QuoteResult(symbol, cached, cached.source, from_cache=True)
            else:
                chains[symbol] = self.sources_for(symbol, "quotes")
        return results, chains

    def _quotes_from(self, provider: str, group: list[str],
                     errors: dict[str, list[str]]) -> list[Quote]:
        adapter = self.adapters[provider]
        size = max(1, adapter.max_symbols_per_request)
        found: list[Quote] = []
        for i in range(0, len(group), size):
            chunk = group[i:i + size]
            try:
                quotes = self._guarded(provider, lambda c=chunk: adapter.fetch_quotes(c))
            except DataError as exc:
                for symbol in chunk:
                    errors[symbol].append(one_line(exc))
                continue
            got = {q.symbol for q in quotes}
            for symbol in chunk:
                if symbol not in got:
                    errors[symbol].append(f"{provider}: no quote for {symbol}")
            found += [q for q in quotes if q.symbol in chunk]
        return found

    def _quote_fallback(self, symbol: str, errors: list[str], now: datetime) -> QuoteResult:
        reason = "; ".join(errors) or "no source answered"
        hit = self.cache.get_quote(symbol, now=now) if self.cache else None
        if hit is None:
            return QuoteResult(symbol, None, error=reason)
        logger.warning("%s: serving cached quote (%.0fs old%s): %s", symbol, hit.age_seconds,
                       ", stale" if hit.stale else "", reason)
        return QuoteResult(symbol, hit.quote, hit.quote.source, from_cache=True, stale=hit.stale,
                           error=reason)

    # ---- one named provider (checking a new asset's mapping) --------------------------------
    def lookup(self, provider: str, vendor_id: str) -> Any:
        """What one provider says about one of its ids (``Listing``), through the guards.

        Raises:
            InvalidInputError: the provider is not enabled or offers no lookup.
            DataError: the provider's typed error (NotFoundError: it does not know the id).
        """
        adapter = self.adapters.get(provider)
        if adapter is None or not hasattr(adapter, "lookup"):
            raise InvalidInputError(f"{provider}: not enabled or offers no lookup")
        return self._guarded(provider, lambda: adapter.lookup(vendor_id))

    def fetch_history_from(self, provider: str, symbol: str, start: datetime, end: datetime,
                           interval: str = "1d") -> pd.DataFrame:
        """Bars of one symbol from one named provider: guarded, no cache, no fallback."""
        adapter = self.adapters.get(provider)
        if adapter is None or not adapter.supports("history", interval):
            raise InvalidInputError(f"{provider}: not enabled or offers no {interval} history")
        return self._guarded(provider, lambda: adapter.fetch_history(symbol, start, end,
                                                                     interval))

    def set_universe(self, assets: Mapping[str, Any]) -> None:
        """Point the adapters' ids and the fallback chains at a new universe (custom assets)."""
        for name, adapter in self.adapters.items():
            adapter.ids = {sym: a.symbols[name] for sym, a in assets.items() if name in a.symbols}
        self.chains = {sym: list(a.sources) for sym, a in assets.items()}

    # ---- history --------------------------------------------------------------------------
    def fetch_history(self, symbol: str, start: datetime, end: datetime, interval: str = "1d",
                      *, now: datetime, sources: Sequence[str] | None = None) -> HistoryResult:
        """Bars of a window from the cache or the first source that answers.

        ``sources`` limits the chain (gap healing asks one provider at a time).

        Raises:
            EmptyDataError: a source answered with no bars in the window.
            DataError: every source failed; the message names each source's reason.
        """
        if self.cache is not None:
            hit = self.cache.get_history(symbol, interval, start, end, now=now)
            if hit is not None:
                return HistoryResult(hit[0], hit[1], from_cache=True)
        chain = self.sources_for(symbol, "history", interval)
        if sources is not None:
            chain = [p for p in chain if p in sources]
        if not chain:
            raise InvalidInputError(f"{symbol}: no enabled source offers {interval} history")
        reasons, failures = [], []
        for provider in chain:
            adapter = self.adapters[provider]
            try:
                frame = self._guarded(provider, lambda a=adapter: a.fetch_history(
                    symbol, start, end, interval))
            except EmptyDataError:
                raise
            except DataError as exc:
                reasons.append(one_line(exc))
                failures.append(exc)
                continue
            if self.cache is not None:
                self.cache.put_history(symbol, interval, start, end, frame, provider,
                                       fetched_at=now)
            return HistoryResult(frame, provider)
        if len(failures) == 1:
            raise failures[0]  # one source asked: its own typed error (e.g. OutOfWindowError)
        raise ProviderError("; ".join(reasons))


def build_registry(settings: Any, environ: Mapping[str, str], cache: PriceCache | None = None,
                   *, session: requests.Session | None = None,
                   sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic,
                   use_rate_limits: bool = True,
                   assets: Mapping[str, Any] | None = None) -> Registry:
    """Adapters of every enabled source, wrapped with the configured guards.

    Args:
        settings: loaded Settings.
        environ: where API keys are read (by ``settings.api_key``).
        cache: PriceCache to use (None: no caching).
        session: requests session shared by the HTTP adapters (default: a new one).
        sleep: how retries wait between attempts (a seam: tests pass a fake).
        clock: monotonic seconds the circuit breakers time their reset by (a seam, likewise).
        use_rate_limits: False to disable local budgets (tests of unrelated behaviour).
        assets: the universe (default ``settings.assets``; see data.store.universe).
    """
    assets = settings.assets if assets is None else assets
    session = session or requests.Session()
    adapters: dict[str, PriceAdapter] = {}
    notices: list[str] = []
    for name, src in settings.sources.items():
        if not src.enabled:
            continue
        key = settings.api_key(name, environ)
        if src.key_required and not key:
            notices.append(f"{name}: skipped, no API key (set {src.api_key_env})")
            logger.info(notices[-1])
            continue
        ids = {sym: a.symbols[name] for sym, a in assets.items() if name in a.symbols}
        adapters[name] = ADAPTERS[name](src, api_key=key, ids=ids, session=session)
    ingest = settings.ingest
    limiter = None
    if use_rate_limits:
        limiter = ProviderRateLimiter(rates_from_settings(settings),
                                      redis_url=settings.cache.redis_url,
                                      max_wait=ingest.rate_limit_max_wait_seconds,
                                      key_prefix=f"{settings.cache.redis_key_prefix}:ratelimit")
    return Registry(adapters=adapters,
                    chains={sym: list(a.sources) for sym, a in assets.items()},
                    limiter=limiter, cache=cache, policy=RetryPolicy.from_settings(ingest),
                    breaker_failures=ingest.breaker_failures,
                    breaker_reset_seconds=ingest.breaker_reset_seconds,
                    sleep=sleep, clock=clock, notices=notices)
