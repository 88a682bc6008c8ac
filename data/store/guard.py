"""Opening a store safely: its file, one-at-a-time first start, and errors that say what broke.

* ``prepare_sqlite_file`` creates the store's directory; ``create_store_file`` creates a new
  SQLite store migrated under a temporary name and renamed into place, so ``check_not_empty``
  can refuse a zero-length store file (SQLite would silently treat it as a new, empty store and
  the app would re-seed over a lost one).
* ``boot_lock`` serialises the first-start work (migrations, seeding, the sample portfolio) of
  processes opening one store together (gunicorn workers): a file lock next to a SQLite file,
  a session advisory lock on PostgreSQL. A killed holder releases it (the OS drops the file
  lock, PostgreSQL the session).
* ``describe`` turns a driver error into one line naming the cause and the store (the file, or
  the PostgreSQL URL without its password), e.g. ``attempt to write a readonly database (store
  file /srv/btcfolio.db)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from filelock import FileLock, Timeout

from errors import StorageError
from redaction import clip

# Long enough for a slow first migration + seeding on a busy machine, short enough that a
# wedged holder is reported instead of hanging every worker for ever.
BOOT_LOCK_SECONDS = 300


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for in-memory stores and other backends)."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    if path.startswith("file:"):  # a URI filename (sqlite:///file:/path?mode=ro&uri=true)
        path = path[len("file:"):]
    return Path(path).expanduser() if path else None


def prepare_sqlite_file(url: str) -> None:
    """Create the store's directory; refuse a zero-length store file.

    Raises:
        StorageError: the directory cannot be created, or the file is empty.
    """
    path = sqlite_file(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"store directory {path.parent} cannot be created: "
                           f"{exc.strerror or exc.__class__.__name__}") from exc


def check_not_empty(url: str) -> None:
    """A store file that exists with 0 bytes lost its content: never start a new store there.

    New stores appear complete (``create_store_file``), so 0 bytes means truncation (a full
    disk, a bad copy), unless its WAL still holds pages.
    Called under ``boot_lock`` so a store another worker is creating is never caught mid-way.
    """
    path = sqlite_file(url)
    if path is None or not path.exists() or path.stat().st_size > 0:
        return
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return
    raise StorageError(f"store file {path} is empty (0 bytes): it is not a store. Restore it "
                       f"from a backup, or delete it to start a new store")


def create_store_file(path: Path, migrate: Callable[[sa.Engine], None]) -> None:
    """Create a new SQLite store at ``path`` atomically: migrated next to it, then renamed.

    A store file therefore only ever appears complete (schema at head), so a zero-length or
    half-migrated file at ``path`` can only mean damage, never an interrupted first start.
    """
    temp = path.with_name(path.name + ".creating")
    for leftover in (temp, *(temp.with_name(temp.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)  # an earlier first start killed half-way
    engine = sa.create_engine(f"sqlite:///{temp}", poolclass=sa.pool.NullPool)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    os.replace(temp, path)


def where(engine: sa.Engine) -> str:
    """The store as shown in messages: its file, or its URL without the password."""
    if engine.dialect.name == "sqlite":
        return f"store file {engine.url.database or ':memory:'}"
    return f"store {engine.url.render_as_string(hide_password=True)}"


def describe(exc: BaseException, engine: sa.Engine) -> str:
    """One line: the driver's own reason and the store (never SQL or parameters)."""
    orig = getattr(exc, "orig", None)
    cause = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else (
        exc.__class__.__name__)
    return f"{clip(cause, 200)} ({where(engine)})"


@contextlib.contextmanager
def ddl_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in one transaction that also covers DDL (for migrations).

    Python's sqlite3 commits before each CREATE/ALTER on its own, so a kill mid-migration used
    to leave half a schema that no later start could migrate ("table prices already exists").
    For a SQLite file this opens a separate connection that issues BEGIN itself (SQLAlchemy's
    documented pysqlite recipe), so the whole upgrade commits or none of it does.
    """
    if engine.dialect.name != "sqlite" or sqlite_file(str(engine.url)) is None:
        with engine.begin() as conn:
            yield conn
        return
    ddl_engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool,
                                  connect_args={"timeout": 30, "isolation_level": None})

    @sa.event.listens_for(ddl_engine, "begin")
    def _explicit_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with ddl_engine.begin() as conn:
            yield conn
    finally:
        ddl_engine.dispose()


@contextlib.contextmanager
def boot_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the store's first-start lock (see module docstring); nothing for in-memory stores.

    Raises:
        StorageError: the lock was not obtained within BOOT_LOCK_SECONDS, or the store is
            unreachable.
    """
    if engine.dialect.name == "sqlite":
        # url.database, not the rendered URL: rendering percent-encodes "file:" URI names.
        path = sqlite_file(f"sqlite:///{engine.url.database or ''}")
        if path is None:
            yield
            return
        lock = FileLock(str(path) + ".boot.lock", timeout=BOOT_LOCK_SECONDS)
        try:
            lock.acquire()
        except Timeout as exc:
            raise StorageError(f"another process has held the start-up lock of {where(engine)} "
                               f"for {BOOT_LOCK_SECONDS}s") from exc
        except OSError as exc:
            raise StorageError(f"cannot create the start-up lock next to {where(engine)}: "
                               f"{exc.strerror}") from exc
        try:
            yield
        finally:
            lock.release()
        return
    key = int.from_bytes(hashlib.sha256(b"btcfolio:boot").digest()[:8], "big", signed=True)
    try:
        conn = engine.connect()
        conn.execute(sa.text("SELECT set_config('lock_timeout', :ms, false)"),
                     {"ms": f"{BOOT_LOCK_SECONDS * 1000}"})
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"store start-up lock failed: {describe(exc, engine)}") from exc
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
        conn.close()
