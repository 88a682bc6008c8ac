"""Adding and removing custom assets (shared by the dashboard form and ``/api/assets``).

Adding one: validate (pure, ``analytics.asset_input``) -> ask each mapped provider about its id
through a short-timeout registry (a lookup fills in the name and asset class, a 10-day history
fetch proves the id has prices) -> store it (``data.store.universe``) -> request its backfill
the way ``data/store/holdings.py`` does for a new holding. A provider that says "no such id"
(or has no prices for it) refuses the asset; a provider that cannot be reached (offline, rate
limited, no key) only means "unchecked": the asset is saved and shows "no data yet" until the
backfill runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from analytics.asset_input import AssetInput, validate_asset
from data.models import Listing
from data.providers.registry import Registry, build_registry, one_line
from data.store.backfills import request_backfill
from data.store.repository import Repository
from data.store.universe import AssetConflictError, effective_universe, save_custom_asset
from errors import DataError, EmptyDataError, InvalidInputError, NotFoundError
from settings import AssetSettings

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 4.0   # per provider call: a page or API request waits for this
PROBE_RATE_WAIT_SECONDS = 2.0
PROBE_DAYS = 10               # a crypto trades every day, a stock on at least 6 of 10 days
# A category for an asset whose user named none, by asset class (when config.yaml has it).
DEFAULT_CATEGORY = {"crypto": "high_vol_crypto", "equity": "stocks"}


@dataclass(frozen=True)
class Probe:
    """What the providers said about a new asset's ids."""

    listing: Listing | None = None
    verified_by: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()   # "provider: reason" for each provider not reached


@dataclass(frozen=True)
class AddedAsset:
    """A stored custom asset and how it was checked."""

    symbol: str
    name: str
    category: str
    kind: str
    symbols: dict[str, str]
    sources: tuple[str, ...]
    status: str                       # "verified" or "unchecked"
    probe: Probe = field(default_factory=Probe)


def probe_registry(settings, environ: Mapping[str, str]) -> Registry:
    """A registry for checking ids: short timeouts, one attempt, a short rate-limit wait."""
    sources = {name: src.model_copy(update={
        "timeout_seconds": min(src.timeout_seconds, PROBE_TIMEOUT_SECONDS)})
        for name, src in settings.sources.items()}
    ingest = settings.ingest.model_copy(update={
        "retry_attempts": 1, "rate_limit_max_wait_seconds": PROBE_RATE_WAIT_SECONDS})
    quick = settings.model_copy(update={"sources": sources, "ingest": ingest})
    return build_registry(quick, environ, cache=None, assets={})


def _check_one(registry: Registry, provider: str, candidate: AssetInput, *,
               now: datetime) -> tuple[Listing | None, str | None]:
    """Lookup (when offered) then a short history fetch from one provider.

    Returns:
        (what the lookup said, None when prices came back, else why it could not be checked).

    Raises:
        InvalidInputError: the provider does not know the id or has no prices for it.
    """
    vendor_id = candidate.symbols[provider]
    adapter = registry.adapters[provider]
    listing = None
    try:
        if hasattr(adapter, "lookup"):
            listing = registry.lookup(provider, vendor_id)
        adapter.ids[candidate.symbol] = vendor_id
        registry.fetch_history_from(provider, candidate.symbol,
                                    now - timedelta(days=PROBE_DAYS), now)
    except (NotFoundError, EmptyDataError) as exc:
        raise InvalidInputError(f"{provider} has no prices for {vendor_id!r} "
                                f"({one_line(exc)})", field="symbols") from exc
    except DataError as exc:  # unreachable, rate limited, no key: not the id's fault
        return listing, one_line(exc)
    return listing, None


def probe_asset(registry: Registry, candidate: AssetInput, *, now: datetime) -> Probe:
    """Ask every mapped provider about the candidate's ids (see module docstring).

    Raises:
        InvalidInputError: a provider refused its id.
    """
    listing, verified, unchecked = None, [], []
    for provider in candidate.symbols:
        if provider not in registry.adapters:
            unchecked.append(f"{provider}: not enabled (or no API key)")
            continue
        found, problem = _check_one(registry, provider, candidate, now=now)
        listing = listing or found
        if problem is None:
            verified.append(provider)
        else:
            unchecked.append(problem)
    return Probe(listing, tuple(verified), tuple(unchecked))


def _complete(candidate: AssetInput, probe: Probe, categories) -> tuple[str, str, str]:
    """Name, kind and category: what the user gave, else what a provider said."""
    listing = probe.listing
    name = candidate.name or (listing.name if listing else None) or candidate.symbol
    kind = candidate.kind or (listing.kind if listing else None)
    if kind is None:
        raise InvalidInputError("kind is needed (crypto or equity): no provider could "
                                "say what the asset is", field="kind")
    category = candidate.category or DEFAULT_CATEGORY.get(kind)
    if category not in categories:
        raise InvalidInputError(f"category is needed (known: {', '.join(categories)})",
                                field="category")
    return name[:100], kind, category


def add_custom_asset(repo: Repository, settings, body: object, *, now: datetime,
                     environ: Mapping[str, str] | None = None,
                     registry: Registry | None = None) -> AddedAsset:
    """Validate, check with the providers, store and request the backfill of a custom asset.

    Raises:
        InvalidInputError: invalid input or a provider refused an id (nothing stored).
        AssetConflictError: a custom asset with that symbol exists.
        StorageError: the store failed.
    """
    universe = effective_universe(settings, repo)
    candidate = validate_asset(body, categories=settings.categories,
                               providers=tuple(settings.sources), reserved=settings.assets)
    if candidate.symbol in universe:
        raise AssetConflictError(f"{candidate.symbol} is already a custom asset")
    own = registry is None
    if own:
        registry = probe_registry(settings, os.environ if environ is None else environ)
    try:
        probe = probe_asset(registry, candidate, now=now)
    finally:
        if own and registry.limiter is not None:
            registry.limiter.close()  # its leak threads would outlive the request otherwise
    name, kind, category = _complete(candidate, probe, settings.categories)
    asset = AssetSettings(name=name, category=category, kind=kind, symbols=candidate.symbols,
                          sources=candidate.sources)
    status = "verified" if probe.verified_by else "unchecked"
    save_custom_asset(repo, candidate.symbol, asset, status=status, now=now)
    request_backfill(repo, candidate.symbol, now=now)
    logger.info("custom asset %s added (%s); backfill requested", candidate.symbol, status)
    return AddedAsset(candidate.symbol, name, kind=kind, category=category,
                      symbols=dict(candidate.symbols), sources=candidate.sources, status=status,
                      probe=probe)
