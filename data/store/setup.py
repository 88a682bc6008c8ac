"""Make the store reachable before it is migrated: one clear line when it cannot be.

* SQLite: the file's folder (in the data directory) is created.
* PostgreSQL: a missing database is created through the ``postgres`` maintenance database
  when the user may (``CREATE DATABASE``); otherwise the error names the exact command to run.
  Whether the database exists is read from ``pg_database``, not from the server's (localised)
  error text.

An unreachable server is a ``StorageError`` naming the URL without its password and the
driver's first line, instead of a migration failure saying only ``OperationalError``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from errors import StorageError

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10
MAINTENANCE_DB = "postgres"


def prepare_store(url: str) -> None:
    """Create what the store needs to open (folder or database).

    Raises:
        StorageError: the folder cannot be created, the server cannot be reached, or the
            database is missing and may not be created here (the message says what to run).
    """
    if url.startswith("sqlite:///") and ":memory:" not in url:
        folder = Path(url[len("sqlite:///"):]).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the store folder {folder}: {exc.strerror} "
                               "(set BTCFOLIO_DATA_DIR to a writable folder)") from exc
    elif url.startswith(("postgresql://", "postgresql+psycopg://")):
        ensure_pg_database(url)


def _pg_url(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    return parsed.set(drivername="postgresql+psycopg")


def _shown(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


def _reason(exc: sa.exc.DBAPIError) -> str:
    """The driver's first line, without the 'connection failed:' prefix."""
    text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    return text.removeprefix("connection failed: ")


def _engine(url: sa.URL, **kwargs) -> sa.Engine:
    return sa.create_engine(url, poolclass=NullPool,
                            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, **kwargs)


def _can_connect(url: sa.URL) -> sa.exc.DBAPIError | None:
    engine = _engine(url)
    try:
        with engine.connect():
            return None
    except sa.exc.DBAPIError as exc:
        return exc
    finally:
        engine.dispose()


def ensure_pg_database(url: str) -> bool:
    """Create the PostgreSQL database of ``url`` if it does not exist; True if created.

    Raises:
        StorageError: unreachable server, or no right to create the database.
    """
    target = _pg_url(url)
    failure = _can_connect(target)
    if failure is None:
        return False
    name = target.database
    admin = _engine(target.set(database=MAINTENANCE_DB), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first() is not None
            if exists:  # the database is there: the first failure was something else
                raise StorageError(f"cannot open the PostgreSQL store {_shown(target)}: "
                                   f"{_reason(failure)}") from failure
            _create(conn, name)
    except sa.exc.DBAPIError as exc:
        if _can_connect(target) is None:      # another worker created it meanwhile
            return False
        raise StorageError(_explain(target, failure, exc)) from exc
    finally:
        admin.dispose()
    logger.info("created the PostgreSQL database %s", name)
    return True


def _create(conn: sa.Connection, name: str) -> None:
    quoted = conn.dialect.identifier_preparer.quote(name)
    conn.execute(sa.text(f"CREATE DATABASE {quoted}"))


def _explain(target: sa.URL, failure: sa.exc.DBAPIError, admin_error: sa.exc.DBAPIError) -> str:
    """One line: why the store cannot be opened and, if the database is missing, what to run."""
    if isinstance(admin_error, sa.exc.OperationalError) and "permission" not in str(
            admin_error.orig).lower():
        return f"cannot reach the PostgreSQL store {_shown(target)}: {_reason(failure)}"
    host = f"-h {target.host} " if target.host else ""
    port = f"-p {target.port} " if target.port else ""
    user = f"-U {target.username} " if target.username else ""
    return (f"the PostgreSQL database {target.database!r} does not exist and this user may not "
            f"create it ({_reason(admin_error)}): run `createdb {host}{port}{user}"
            f"{target.database}` as a user with CREATEDB, then start again")
