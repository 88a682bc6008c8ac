"""The PostgreSQL path creates its database when it may, or names the command to run.

Runs against the machine's PostgreSQL (TEST_DATABASE_URL) with fresh database and role names,
dropped after.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from data.store.seed import open_store
from data.store.setup import ensure_pg_database
from errors import StorageError
from settings import load_settings
from tests.support.backends import pg_url
from tests.support.sample import ROOT

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin():
    engine = sa.create_engine(sa.make_url(pg_url()).set(drivername="postgresql+psycopg"),
                              isolation_level="AUTOCOMMIT")
    made: list[tuple[str, str]] = []
    yield engine, made
    with engine.connect() as conn:
        for kind, name in reversed(made):
            quoted = conn.dialect.identifier_preparer.quote(name)
            extra = " WITH (FORCE)" if kind == "DATABASE" else ""
            conn.execute(sa.text(f"DROP {kind} IF EXISTS {quoted}{extra}"))
    engine.dispose()


def _db_exists(engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).first() is not None


def test_start_creates_missing_database_and_migrates_it(admin, tmp_path):
    engine, made = admin
    name = f"btc_new_{uuid.uuid4().hex[:8]}"
    made.append(("DATABASE", name))
    url = sa.make_url(pg_url()).set(database=name).render_as_string(hide_password=False)
    settings = load_settings(ROOT / "config.yaml", {"DATABASE_URL": url,
                                                    "BTCFOLIO_DATA_DIR": str(tmp_path)})
    assert not _db_exists(engine, name)
    repo = open_store(settings)                         # the app's start path
    try:
        assert _db_exists(engine, name)
        assert repo.load_holdings(settings.portfolio.name) == settings.portfolio.holdings
    finally:
        repo.engine.dispose()
    assert ensure_pg_database(url) is False             # exists now: nothing to do


def test_missing_database_without_createdb_right_names_the_command(admin):
    engine, made = admin
    role, name = f"btc_role_{uuid.uuid4().hex[:8]}", f"btc_nope_{uuid.uuid4().hex[:8]}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN NOCREATEDB'))
    made.append(("ROLE", role))
    base = sa.make_url(pg_url())
    url = base.set(username=role, password=None, database=name).render_as_string(
        hide_password=False)
    with pytest.raises(StorageError) as caught:
        ensure_pg_database(url)
    message = str(caught.value)
    assert f"the PostgreSQL database '{name}' does not exist" in message
    port = f"-p {base.port} " if base.port else ""
    assert f"run `createdb -h {base.host} {port}-U {role} {name}`" in message
    assert not _db_exists(engine, name)
