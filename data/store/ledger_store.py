"""The ledger in the store: write, read and delete entries (table ``ledger_entries``, rev 0003).

Quantities are stored as exact decimal text and come back as ``Decimal``; times as epoch
seconds (UTC) and the local trade date as ISO text. A batch of entries is written in one
transaction (all or nothing); an entry whose dedupe hash is already stored is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import uuid4

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analytics.ledger import CASH, Entry, canonical_quantity, dedupe_hash, replay
from analytics.ledger_arrays import LedgerColumns, floats
from analytics.units import BTC
from data.store.schema import insert_for, meta
from data.store.schema import ledger_entries as entries_table

if TYPE_CHECKING:  # the repository's holdings read this module
    from data.store.repository import Repository

_T = entries_table.c
_DECIMALS = ("quantity", "counter_quantity", "fee_quantity")
_TEXT = ("type", "subtype", "account", "asset", "counter_asset", "fee_asset", "to_account",
         "note", "external_id", "import_batch", "dedupe_hash")


def _row(entry: Entry, portfolio: str, created_at: int) -> dict:
    if entry.dedupe_hash is None:
        raise ValueError("an entry needs its dedupe hash before it is stored")
    row = {name: getattr(entry, name) for name in _TEXT}
    row.update({name: None if getattr(entry, name) is None
                else canonical_quantity(getattr(entry, name)) for name in _DECIMALS})
    row.update(portfolio=portfolio, ts=int(entry.ts.timestamp()),
               trade_date=entry.trade_date.isoformat(), created_at=created_at)
    return row


_COLUMNS = ("id", "ts", "trade_date", *_TEXT, *_DECIMALS)


class _Reader:
    """Rows -> entries; repeated texts (dates, quantities) are converted once per read."""

    def __init__(self) -> None:
        self.days: dict[str, date] = {}
        self.numbers: dict[str, Decimal] = {}

    def decimal(self, text: str | None) -> Decimal | None:
        if text is None:
            return None
        value = self.numbers.get(text)
        if value is None:
            value = self.numbers[text] = Decimal(text)
        return value

    def entry(self, row: tuple) -> Entry:
        entry_id, ts, day, *rest = row
        trade = self.days.get(day)
        if trade is None:
            trade = self.days[day] = date.fromisoformat(day)
        texts = dict(zip(_TEXT, rest[:len(_TEXT)], strict=True))
        qty, counter, fee = (self.decimal(v) for v in rest[len(_TEXT):])
        return Entry(**texts, quantity=qty, counter_quantity=counter, fee_quantity=fee,
                     id=int(entry_id), ts=datetime.fromtimestamp(int(ts), timezone.utc),
                     trade_date=trade)


def _entry(row) -> Entry:
    return _Reader().entry(tuple(row[c] for c in _COLUMNS))


VERSION_KEY = "ledger_version:"


def _bump_version(repo: Repository, conn: sa.Connection, portfolio: str) -> None:
    """Count every change of a portfolio's ledger (readers cache by it, across processes)."""
    stmt = insert_for(repo.backend, meta).values(key=VERSION_KEY + portfolio, value="1")
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": sa.cast(sa.cast(meta.c.value, sa.Integer) + 1, sa.Text)}))


def ledger_version(repo: Repository, portfolio: str) -> str:
    """The change counter of a portfolio's ledger ("0" before the first write)."""
    return repo.get_meta(VERSION_KEY + portfolio) or "0"


def stored_hashes(repo: Repository, portfolio: str, hashes: Iterable[str]) -> set[str]:
    """Which of these dedupe hashes are already stored."""
    wanted = list(dict.fromkeys(hashes))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start:start + 500]
        q = sa.select(_T.dedupe_hash).where(_T.portfolio == portfolio,
                                            _T.dedupe_hash.in_(chunk))
        found |= set(repo._run(lambda c, q=q: c.execute(q).scalars().all()))
    return found


def insert_entries(repo: Repository, portfolio: str, entries: Sequence[Entry]) -> list[Entry]:
    """Store new entries in one transaction; return them with ids (already stored: skipped)."""
    known = stored_hashes(repo, portfolio, (e.dedupe_hash for e in entries))
    fresh = [e for e in entries if e.dedupe_hash not in known]
    if not fresh:
        return []
    now = int(time.time())
    rows = [_row(e, portfolio, now) for e in fresh]

    def write(conn: sa.Connection) -> list[Entry]:
        stmt = insert_for(repo.backend, entries_table).on_conflict_do_nothing(
            index_elements=["portfolio", "dedupe_hash"])
        conn.execute(stmt, rows)
        _bump_version(repo, conn, portfolio)
        q = sa.select(entries_table).where(
            _T.portfolio == portfolio, _T.dedupe_hash.in_([r["dedupe_hash"] for r in rows]))
        if len(rows) > 500:  # a big import: read back the batch instead of a huge IN list
            q = sa.select(entries_table).where(_T.portfolio == portfolio,
                                               _T.import_batch == fresh[0].import_batch)
        return [_entry(r) for r in conn.execute(q.order_by(_T.id)).mappings()]

    return repo._run(write)


def load_entries(repo: Repository, portfolio: str) -> list[Entry]:
    """Every entry of a portfolio in storage order (ids ascending)."""
    q = (sa.select(*[_T[c] for c in _COLUMNS]).where(_T.portfolio == portfolio)
         .order_by(_T.id))
    reader = _Reader()
    return repo._run(lambda c: [reader.entry(tuple(r)) for r in c.execute(q)])


def _tuples(conn: sa.Connection, stmt: sa.Executable, params: dict | None = None) -> list:
    """A SELECT's rows as the driver's own tuples, in the connection's transaction.

    A SQLAlchemy ``Row`` stays tracked by the garbage collector (a tuple of numbers and text
    is untracked): on the ~40,000 rows of a cold performance request the collections Rows
    set off cost more than the query itself.
    """
    compiled = stmt.compile(dialect=conn.dialect)
    values = compiled.construct_params(params or {})
    args = [values[k] for k in compiled.positiontup] if compiled.positional else values
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return cursor.fetchall()
    finally:
        cursor.close()


_REPLAY = ("id", "ts", "trade_date", "type", "subtype", "account", "asset", "quantity",
           "counter_asset", "counter_quantity", "fee_asset", "fee_quantity", "to_account")
_EPOCH = date(1970, 1, 1).toordinal()


def _replay_entry(row: tuple) -> Entry:
    """The replay fields of a row (``_REPLAY``) as an entry (no note, external id or batch)."""
    entry_id, ts, day, kind, subtype, account, asset, qty, counter, cqty, fee, fqty, to = row
    return Entry(type=kind, ts=datetime.fromtimestamp(int(ts), timezone.utc),
                 trade_date=date.fromisoformat(day), asset=asset, quantity=Decimal(qty),
                 account=account, subtype=subtype, counter_asset=counter,
                 counter_quantity=None if cqty is None else Decimal(cqty), fee_asset=fee,
                 fee_quantity=None if fqty is None else Decimal(fqty), to_account=to,
                 id=int(entry_id))


def load_columns(repo: Repository, portfolio: str) -> LedgerColumns:
    """A portfolio's ledger as columns in replay order: what valuation and performance read.

    Only the fields the replay uses are read, straight into arrays (no record per entry);
    ``entry(i)`` builds row i's exact record when the exact replay needs it.
    """
    q = sa.select(*[_T[c] for c in _REPLAY]).where(_T.portfolio == portfolio)
    rows = repo._run(lambda c: _tuples(c, q))
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(_REPLAY)
    day = np.array(cols[2], dtype="datetime64[D]").astype(np.int64) + _EPOCH
    order = np.lexsort((np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
                        day))  # replay order, sorted here: cheaper than ORDER BY on 3 columns
    if not np.array_equal(order, np.arange(len(rows))):
        rows = [rows[i] for i in order.tolist()]
        cols = list(zip(*rows, strict=True))
    ids, _, _, kinds, subtypes, accounts, assets, qty, counter, cqty, fee, fqty, to = cols
    return LedgerColumns(
        ids=ids, day=day[order],
        type=np.array(kinds, dtype=str), subtype=subtypes, account=accounts, asset=assets,
        quantity=floats(qty), counter_asset=counter, counter_quantity=floats(cqty),
        fee_asset=fee, fee_quantity=floats(fqty), to_account=to,
        entry=lambda i: _replay_entry(rows[i]))


def delete_entry(repo: Repository, portfolio: str, entry_id: int) -> bool:
    """Delete one entry; return whether it existed."""
    q = entries_table.delete().where(_T.portfolio == portfolio, _T.id == entry_id)

    def write(conn: sa.Connection) -> bool:
        gone = bool(conn.execute(q).rowcount)
        if gone:
            _bump_version(repo, conn, portfolio)
        return gone

    return repo._run(write)


_BALANCES: dict[tuple, dict[str, Decimal]] = {}


def balances(repo: Repository, portfolio: str) -> dict[str, Decimal]:
    """Holdings (quantity per asset, zero left out): the ledger's balances.

    Every dashboard refresh asks: the replay is kept per ledger change counter (one meta read
    instead of reading and replaying every entry).
    """
    key = (id(repo.engine), str(repo.engine.url), portfolio, ledger_version(repo, portfolio))
    held = _BALANCES.get(key)
    if held is None:
        held = replay(load_entries(repo, portfolio)).holdings()
        if len(_BALANCES) > 64:
            _BALANCES.clear()
        _BALANCES[key] = held
    return dict(held)


def opening_ts(repo: Repository, symbols: Iterable[str] = ()) -> datetime:
    """When opening balances are dated: the first day all of ``symbols`` and BTC have a close.

    On a seeded store that is the start of the bundled history (stocks start on its first
    trading day); it is now when nothing is stored.
    """
    q = sa.text("SELECT symbol, min(ts) FROM prices WHERE interval = '1d' GROUP BY symbol")
    first = dict(repo._run(lambda c: c.execute(q).all()))
    wanted = {s for s in symbols if s != CASH} | {BTC}
    if not wanted <= set(first):
        return datetime.now(timezone.utc).replace(microsecond=0)
    return datetime.fromtimestamp(max(int(first[s]) for s in wanted), timezone.utc)


# ---- the holdings edits (dashboard form, /api/holdings) as ledger entries ---------------------

def with_identity(entry: Entry, portfolio: str) -> Entry:
    """A hand-entered entry gets a unique external id (two equal clicks are two entries)."""
    if not entry.external_id:
        entry = replace(entry, external_id=f"btcfolio:{uuid4().hex}")
    return replace(entry, dedupe_hash=dedupe_hash(entry, portfolio))


def _decimal(quantity: float | Decimal) -> Decimal:
    # repr of a float is the shortest text that reads back as the same float (0.1 -> "0.1").
    return quantity if isinstance(quantity, Decimal) else Decimal(repr(float(quantity)))


def _write_one(repo: Repository, portfolio: str, entry: Entry) -> Entry:
    return insert_entries(repo, portfolio, [with_identity(entry, portfolio)])[0]


def deposit(repo: Repository, portfolio: str, symbol: str, quantity: float | Decimal, *,
            now: datetime, note: str | None = None) -> Entry:
    """Add to a position: a DEPOSIT at today's market price."""
    return _write_one(repo, portfolio, Entry(
        type="DEPOSIT", ts=now, trade_date=now.date(), asset=symbol,
        quantity=_decimal(quantity), note=note))


def set_quantity(repo: Repository, portfolio: str, symbol: str, quantity: float | Decimal, *,
                 now: datetime) -> Entry | None:
    """Set a position to a quantity: a correction ADJUSTMENT of the difference (None: no change)."""
    delta = _decimal(quantity) - balances(repo, portfolio).get(symbol, Decimal(0))
    if delta == 0:
        return None
    return _write_one(repo, portfolio, Entry(
        type="ADJUSTMENT", subtype="correction", ts=now, trade_date=now.date(), asset=symbol,
        quantity=delta, note="quantity set"))


def withdraw_all(repo: Repository, portfolio: str, symbol: str, *,
                 now: datetime) -> Entry | None:
    """Remove a position: a WITHDRAWAL of its whole balance (None when it is not held)."""
    held = balances(repo, portfolio).get(symbol, Decimal(0))
    if held <= 0:
        return None
    return _write_one(repo, portfolio, Entry(
        type="WITHDRAWAL", ts=now, trade_date=now.date(), asset=symbol, quantity=held,
        note="position removed"))


def write_openings(repo: Repository, portfolio: str, holdings: dict[str, float], *,
                   at: datetime | None = None) -> list[Entry]:
    """Opening-balance ADJUSTMENTs (dated at the start of the stored history by default)."""
    stamp = at or opening_ts(repo, holdings)
    out = []
    for symbol, quantity in holdings.items():
        entry = Entry(type="ADJUSTMENT", subtype="opening", ts=stamp, trade_date=stamp.date(),
                      asset=symbol, quantity=_decimal(quantity), external_id=f"opening:{symbol}",
                      note="opening balance")
        out.append(replace(entry, dedupe_hash=dedupe_hash(entry, portfolio)))
    return insert_entries(repo, portfolio, out)


def closes_fingerprint(repo: Repository, symbols: Iterable[str]) -> tuple:
    """The (rows, newest ts, sum of closes) of the daily closes of ``symbols``.

    It changes whenever a close is added or corrected, so a reader can cache what it derived
    from them.
    """
    q = sa.text("SELECT count(*), max(ts), sum(close) FROM prices "
                "WHERE interval = '1d' AND symbol IN :symbols"
                ).bindparams(sa.bindparam("symbols", expanding=True))
    return tuple(repo._run(lambda c: c.execute(q, {"symbols": sorted(symbols)}).one()))



_CLOSES = sa.text("SELECT ts, close FROM prices WHERE symbol = :s AND interval = '1d' "
                  "ORDER BY ts")


def load_daily_closes(repo: Repository, symbols: Iterable[str]) -> pd.DataFrame:
    """Wide daily USD closes: index ts (UTC), one column per symbol with a close, NaN gaps.

    What ``Repository.load_closes`` returns, reading only (ts, close) pairs: the ledger's
    valuation reads 5 years of 20+ assets on a cold request.
    """
    wanted = sorted(set(symbols))

    def arrays(conn: sa.Connection) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        # Each symbol's rows become two arrays before the next is read: holding every
        # symbol's Python tuples at once was a 60 MB peak at 200 assets x 5 years.
        out = {}
        for symbol in wanted:
            rows = _tuples(conn, _CLOSES, {"s": symbol})
            if rows:
                out[symbol] = (np.fromiter((r[0] for r in rows), np.int64, len(rows)),
                               np.array([r[1] for r in rows], dtype=np.float64))  # None: NaN
        return out

    found = repo._run(arrays)
    index = (np.unique(np.concatenate([ts for ts, _ in found.values()])) if found
             else np.zeros(0, np.int64))
    wide = np.full((len(index), len(found)), np.nan)
    for j, (ts, close) in enumerate(found.values()):
        wide[np.searchsorted(index, ts), j] = close
    return pd.DataFrame(wide, columns=list(found),
                        index=pd.DatetimeIndex(pd.to_datetime(index, unit="s", utc=True),
                                               name="ts"))


def newest_close_ts(repo: Repository, symbol: str) -> datetime | None:
    """Time of a symbol's newest daily close (one index seek), None when it has none."""
    q = sa.text("SELECT max(ts) FROM prices WHERE symbol = :s AND interval = '1d'")
    value = repo._run(lambda c: c.execute(q, {"s": symbol}).scalar())
    return None if value is None else datetime.fromtimestamp(int(value), timezone.utc)


def claim_with_openings(repo: Repository, key: str, portfolio: str, holdings: dict[str, float],
                        *, sample_flag_key: str) -> bool:
    """First start: claim ``key`` and write the opening balances in ONE transaction.

    The sample flag is written in it too. False when the key was already claimed or the
    portfolio already holds assets.

    A kill at any instant leaves both or neither (issue 18: the claim used to be written first).
    """
    if balances(repo, portfolio):
        repo.claim_meta(key, portfolio)
        return False
    stamp = opening_ts(repo, holdings)
    now = int(time.time())
    rows = []
    for symbol, quantity in holdings.items():
        entry = Entry(type="ADJUSTMENT", subtype="opening", ts=stamp, trade_date=stamp.date(),
                      asset=symbol, quantity=_decimal(quantity), external_id=f"opening:{symbol}",
                      note="opening balance")
        rows.append(_row(replace(entry, dedupe_hash=dedupe_hash(entry, portfolio)), portfolio, now))

    def write(conn: sa.Connection) -> bool:
        claim = insert_for(repo.backend, meta).values(key=key, value=portfolio)
        if not conn.execute(claim.on_conflict_do_nothing()).rowcount:
            return False
        if rows:
            conn.execute(insert_for(repo.backend, entries_table).on_conflict_do_nothing(
                index_elements=["portfolio", "dedupe_hash"]), rows)
            _bump_version(repo, conn, portfolio)
            flag = insert_for(repo.backend, meta).values(key=sample_flag_key, value=portfolio)
            conn.execute(flag.on_conflict_do_nothing())
        return True

    return repo._run(write, write=True)
