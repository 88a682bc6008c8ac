"""The store's bookkeeping half of the repository: transactions, meta keys, source health.

``StoreBase`` owns the engine and the one transaction wrapper (``_run``: every store error
becomes a one-line ``StorageError``; a failed write is remembered for /api/health). On it:
the meta table (run-once claims, versions, keyed JSON state), the per-source health rows, the
configured universe and the holdings as the ledger's balances. ``Repository``
(``repository.py``) adds prices and quotes.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from data.store import guard, ledger_store
from data.store.schema import assets, epoch, from_epoch, insert_for, meta, source_health
from errors import StorageError
from redaction import clip


class StoreBase:
    """Transactions and bookkeeping of the store; every method opens its own short transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        self.last_write_error: str | None = None

    def _run(self, fn, *, write: bool = False):
        try:
            with self.engine.begin() as conn:
                result = fn(conn)
        except SQLAlchemyError as exc:
            error = StorageError(f"store error ({self.backend}): "
                                 f"{guard.describe(exc, self.engine)}")
            if write:  # /api/health reports the store read-only / full from real writes
                self.last_write_error = str(error)
            raise error from exc
        if write:
            self.last_write_error = None
        return result

    def _write(self, fn):
        return self._run(fn, write=True)

    def probe_write(self) -> str | None:
        """Commit one tiny write (a meta stamp); the error text when the store refuses it.

        Catches a read-only or unreachable store and a full disk (the WAL append fails); a
        failed real write stays in ``last_write_error`` until a real write succeeds.
        """
        stamp = str(pd.Timestamp.now(tz="UTC").value)
        stmt = insert_for(self.backend, meta).values(key="health_probe", value=stamp)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stamp})
        try:
            self._run(lambda conn: conn.execute(stmt))
        except StorageError as exc:
            return str(exc)
        return None

    # ---- holdings (the ledger's balances: data.store.ledger_store) & assets ---------------------
    def load_holdings(self, portfolio: str = "default") -> dict[str, float]:
        """Quantities of a portfolio, by symbol (sorted): the ledger's non-zero balances."""
        return {s: float(q) for s, q in ledger_store.balances(self, portfolio).items()}

    def set_holding(self, symbol: str, quantity: float, portfolio: str = "default") -> None:
        """Set one position to a quantity (a correction entry in the ledger)."""
        if not math.isfinite(quantity) or quantity <= 0:
            raise ValueError(f"quantity of {symbol} must be positive and finite")
        ledger_store.set_quantity(self, portfolio, symbol, quantity,
                                  now=datetime.now(timezone.utc).replace(microsecond=0))

    def remove_holding(self, symbol: str, portfolio: str = "default") -> bool:
        """Withdraw a whole position; return whether it was held."""
        return ledger_store.withdraw_all(
            self, portfolio, symbol,
            now=datetime.now(timezone.utc).replace(microsecond=0)) is not None

    def sync_assets(self, universe: Mapping[str, Mapping[str, str]]) -> None:
        """Write the configured universe (symbol -> name, category, kind) to the assets table."""
        rows = [{"symbol": s, "name": a["name"], "category": a["category"], "kind": a["kind"]}
                for s, a in universe.items()]

        def write(conn: sa.Connection) -> None:
            stmt = insert_for(self.backend, assets)
            stmt = stmt.on_conflict_do_update(
                index_elements=["symbol"],
                set_={c: stmt.excluded[c] for c in ("name", "category", "kind")})
            if rows:
                conn.execute(stmt, rows)

        self._write(write)

    # ---- source health & meta -----------------------------------------------------------
    def record_source_status(self, source: str, *, ok: bool, now: datetime,
                             error: str | None = None) -> None:
        """Record the outcome of a provider call (consecutive failures counted).

        One atomic upsert, so concurrent jobs recording the same source never collide.
        """
        stamp = epoch(now)
        values = ({"healthy": True, "failures": 0, "last_ok": stamp} if ok else
                  {"healthy": False, "failures": 1, "last_error": clip(error or "", 500),
                   "last_error_at": stamp})
        stmt = insert_for(self.backend, source_health).values(source=source, **values)
        update = dict(values)
        if not ok:
            update["failures"] = source_health.c.failures + 1
        stmt = stmt.on_conflict_do_update(index_elements=["source"], set_=update)
        self._write(lambda conn: conn.execute(stmt))

    def load_source_health(self) -> list[dict]:
        """One dict per provider that has been called: healthy, failures, last_ok, last_error."""
        rows = self._run(lambda c: c.execute(sa.select(source_health)).mappings().all())
        out = []
        for r in rows:
            item = dict(r)
            for key in ("last_ok", "last_error_at"):
                stamp = from_epoch(item[key])
                item[key] = stamp.isoformat() if stamp is not None else None
            out.append(item)
        return out

    def get_meta(self, key: str) -> str | None:
        """Read one bookkeeping value (None when the key was never set)."""
        return self._run(lambda c: c.execute(
            sa.select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none())

    def claim_meta(self, key: str, value: str) -> bool:
        """Set a key only if absent; return True if this call set it (a run-once guard)."""
        stmt = insert_for(self.backend, meta).values(key=key, value=value).on_conflict_do_nothing()
        return bool(self._write(lambda c: c.execute(stmt).rowcount))

    def stamp_meta(self, conn: sa.Connection, key: str) -> None:
        """Give ``key`` a value never used before, inside the caller's transaction.

        A version token that readers cache by: random rather than a counter, so a restored
        backup or two concurrent writers can never bring back a value a reader has seen.
        """
        value = uuid.uuid4().hex
        stmt = insert_for(self.backend, meta).values(key=key, value=value)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    def meta_values(self, keys: list[str]) -> dict[str, str]:
        """The values of these keys in one read (a key never set is missing)."""
        query = sa.select(meta.c.key, meta.c.value).where(meta.c.key.in_(keys))
        return self._run(lambda c: {k: v for k, v in c.execute(query)})

    def set_meta(self, key: str, value: str) -> None:
        """Insert or overwrite one bookkeeping value (one transaction)."""
        stmt = insert_for(self.backend, meta).values(key=key, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value})
        self._write(lambda c: c.execute(stmt))

    def meta_items(self, prefix: str) -> list[tuple[str, str]]:
        """Every (key, value) whose key starts with ``prefix``, by key."""
        query = (sa.select(meta.c.key, meta.c.value).where(meta.c.key.like(prefix + "%"))
                 .order_by(meta.c.key))
        return self._run(lambda c: [tuple(r) for r in c.execute(query)])
