"""Opening a store safely: its file, one-at-a-time first start, and errors that say what broke.

* ``prepare_sqlite_file`` creates the store's directory and refuses a zero-length file (SQLite
  would silently treat it as a new, empty store and the app would re-seed over a lost one).
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
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from filelock import FileLock, Timeout

from data.errors import StorageError
from data.redaction import clip

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

    A fresh SQLite store is created with its first page written (WAL mode writes the header),
    so 0 bytes means truncation (a full disk, a bad copy), unless its WAL still holds pages.
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
def boot_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the store's first-start lock (see module docstring); nothing for in-memory stores.

    Raises:
        StorageError: the lock was not obtained within BOOT_LOCK_SECONDS, or the store is
            unreachable.
    """
    if engine.dialect.name == "sqlite":
        path = sqlite_file(engine.url.render_as_string(hide_password=False))
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
