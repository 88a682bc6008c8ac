"""Test helpers for the real PostgreSQL and Redis of the machine: private schemas and key prefixes.

Without TEST_DATABASE_URL / TEST_REDIS_URL the tests skip with a reason; with CI=true they fail
instead (they must run in CI).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa


def _required(var: str, what: str) -> str:
    url = os.environ.get(var)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {var} is not set: {what} tests must run in CI")
    pytest.skip(f"{what} tests need {var} (see scripts/test.sh)")


def pg_url() -> str:
    """TEST_DATABASE_URL, or skip (fail under CI=true)."""
    return _required("TEST_DATABASE_URL", "PostgreSQL")


def redis_url() -> str:
    """TEST_REDIS_URL, or skip (fail under CI=true)."""
    return _required("TEST_REDIS_URL", "Redis")


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A private schema; yields a store URL whose search_path is that schema. Dropped after."""
    url = pg_url()
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc.__class__.__name__}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def store_url(backend: str, tmp_path) -> Iterator[str]:
    """A store URL for ``backend``: a SQLite file in ``tmp_path``, or a private PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with pg_schema() as url:
            yield url


@contextlib.contextmanager
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(redis url, unique key prefix); every key under the prefix is deleted after."""
    import redis

    url = redis_url()
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at TEST_REDIS_URL is unreachable: {exc.__class__.__name__}")
    try:
        yield url, prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
