"""The ``store`` fixture of the data tests: an empty migrated store on each backend."""

from __future__ import annotations

import pytest

from data.store.repository import Repository
from tests.support.backends import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Repository:
    """An empty migrated store on each backend; PostgreSQL gets a private schema."""
    if request.param == "sqlite":
        yield Repository.from_url(f"sqlite:///{tmp_path / 's.db'}")
        return
    with pg_schema() as url:
        repo = Repository.from_url(url)
        yield repo
        repo.engine.dispose()
