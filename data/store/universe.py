"""The effective universe: config.yaml's assets plus the custom assets a user added (the store).

``effective_universe(settings, repo)`` is the ONE answer to "which assets exist" for every
reader (adding holdings, valuation kinds, categories, the dropdown, ingestion). Custom assets
live in the ``custom_assets`` table (migration 0004); every change also writes a new
``custom_assets_version`` in the meta table, in the same transaction. Each process keeps the
universe it read for at most ``CHECK_SECONDS`` and then compares that version (one key read),
so a custom asset added through one gunicorn worker is seen by every other worker within
seconds, and by the writing process at once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from data.store.backfills import REQUEST_PREFIX
from data.store.repository import Repository
from data.store.schema import custom_assets, meta
from errors import DataError, StorageError

CHECK_SECONDS = 2.0
VERSION_KEY = "custom_assets_version"

class AssetConflictError(DataError):
    """The change conflicts with the store: the symbol exists, is held, or is configured."""


class AssetNotFoundError(DataError):
    """No custom asset has that symbol."""


@dataclass(frozen=True)
class Universe(Mapping):
    """``{symbol: AssetSettings}`` (config order, then custom assets by time added).

    ``origin(symbol)`` is "config" or "custom"; ``status(symbol)`` of a custom asset is
    "verified" (a provider answered when it was added) or "unchecked" (added offline).
    """

    assets: Mapping[str, object]
    origins: Mapping[str, str]
    statuses: Mapping[str, str]

    def __getitem__(self, symbol: str):  # untyped: AssetSettings
        return self.assets[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self.assets)

    def __len__(self) -> int:
        return len(self.assets)

    def origin(self, symbol: str) -> str:
        """"config" or "custom"."""
        return self.origins[symbol]

    def status(self, symbol: str) -> str | None:
        """The check result of a custom asset (None for a config asset)."""
        return self.statuses.get(symbol)

    @property
    def custom(self) -> list[str]:
        """The custom symbols, in the order they were added."""
        return [s for s in self.assets if self.origins[s] == "custom"]


@dataclass
class _Cached:
    settings: object
    version: str | None
    checked: float
    universe: Universe


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> _Cached
_cache_lock = threading.Lock()


def _read(repo: Repository) -> tuple[str | None, list]:
    query = sa.select(custom_assets).order_by(custom_assets.c.added_at, custom_assets.c.symbol)
    version = sa.select(meta.c.value).where(meta.c.key == VERSION_KEY)

    def read(conn: sa.Connection):
        return conn.execute(version).scalar_one_or_none(), conn.execute(query).mappings().all()

    return repo._run(read)  # the repository's one transaction wrapper


def _build(settings, rows) -> Universe:  # untyped: Settings, rows of custom_assets
    from settings import AssetSettings

    assets: dict[str, object] = dict(settings.assets)
    origins = dict.fromkeys(settings.assets, "config")
    statuses: dict[str, str] = {}
    for row in rows:
        if row["symbol"] in assets:
            continue  # config.yaml gained the symbol later: the configured asset wins
        assets[row["symbol"]] = AssetSettings(
            name=row["name"], category=row["category"], kind=row["kind"],
            symbols=json.loads(row["symbols"]), sources=tuple(json.loads(row["sources"])))
        origins[row["symbol"]] = "custom"
        statuses[row["symbol"]] = row["status"]
    return Universe(assets, origins, statuses)


def effective_universe(settings, repo: Repository, *,  # untyped: Settings
                       max_age: float = CHECK_SECONDS) -> Universe:
    """config.yaml's universe plus the store's custom assets (re-read when they changed).

    Raises:
        StorageError: the store failed.
    """
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(repo.engine)
    if hit is not None and hit.settings is settings and now - hit.checked < max_age:
        return hit.universe
    if hit is not None and hit.settings is settings:
        current = repo.get_meta(VERSION_KEY)
        if current == hit.version:
            hit.checked = now
            return hit.universe
    version, rows = _read(repo)
    universe = _build(settings, rows)
    with _cache_lock:
        _cache[repo.engine] = _Cached(settings, version, now, universe)
    return universe


def _forget(repo: Repository) -> None:
    with _cache_lock:
        _cache.pop(repo.engine, None)


def _bump_version(conn: sa.Connection) -> None:
    value = uuid.uuid4().hex
    if not conn.execute(meta.update().where(meta.c.key == VERSION_KEY).values(value=value)
                        ).rowcount:
        conn.execute(meta.insert().values(key=VERSION_KEY, value=value))


def save_custom_asset(repo: Repository, symbol: str, asset, *,  # untyped: AssetSettings
                      status: str, now: datetime) -> None:
    """Insert one custom asset (already validated) and publish a new universe version.

    Raises:
        AssetConflictError: a custom asset with that symbol exists.
        StorageError: the store failed.
    """
    row = {"symbol": symbol, "name": asset.name, "category": asset.category, "kind": asset.kind,
           "symbols": json.dumps(dict(asset.symbols), sort_keys=True),
           "sources": json.dumps(list(asset.sources)), "status": status,
           "added_at": int(now.timestamp())}
    try:
        with repo.engine.begin() as conn:
            conn.execute(custom_assets.insert().values(**row))
            _bump_version(conn)
    except IntegrityError as exc:
        raise AssetConflictError(f"{symbol} is already a custom asset") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"custom asset {symbol}: {exc.__class__.__name__}") from exc
    finally:
        _forget(repo)


def _holder(repo: Repository, symbol: str) -> str | None:
    """A portfolio whose ledger balance of ``symbol`` is not zero, or None."""
    from data.store import ledger_store  # the ledger reads the universe's module tables: no cycle

    table = ledger_store.entries_table
    named = sa.select(table.c.portfolio).where(table.c.asset == symbol).distinct()
    for portfolio in repo._run(lambda c: [r[0] for r in c.execute(named)]):
        if ledger_store.balances(repo, portfolio).get(symbol):
            return portfolio
    return None


def delete_custom_asset(repo: Repository, settings, symbol: str) -> None:
    """Delete a custom asset that nobody holds (its stored prices stay; harmless).

    Raises:
        AssetConflictError: a config.yaml asset, or held in a portfolio.
        AssetNotFoundError: no custom asset has that symbol.
        StorageError: the store failed.
    """
    if symbol in settings.assets:
        raise AssetConflictError(f"{symbol} is an asset of config.yaml: it cannot be deleted "
                                 "here (edit config.yaml)")
    holder = _holder(repo, symbol)

    def delete(conn: sa.Connection) -> str | None:
        if holder is not None:
            return holder
        if not conn.execute(custom_assets.delete().where(custom_assets.c.symbol == symbol)
                            ).rowcount:
            raise AssetNotFoundError(f"{symbol} is not a custom asset")
        # No backfill may keep retrying an asset that is gone.
        conn.execute(meta.delete().where(meta.c.key == REQUEST_PREFIX + symbol))
        _bump_version(conn)
        return None

    try:
        with repo.engine.begin() as conn:
            portfolio = delete(conn)
    except SQLAlchemyError as exc:
        raise StorageError(f"custom asset {symbol}: {exc.__class__.__name__}") from exc
    finally:
        _forget(repo)
    if portfolio is not None:
        raise AssetConflictError(f"{symbol} is held (portfolio {portfolio!r}): remove the "
                                 "holding first")
