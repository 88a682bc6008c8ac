"""Scale-out: exactly one scheduler runs jobs, takeover after kill -9, gunicorn workers add no calls.

Every process here is real (``python -m data.scheduler``, ``gunicorn app:server``) and talks to a
local fake CoinGecko that counts requests. PostgreSQL and Redis variants use the machine's
servers (TEST_DATABASE_URL, TEST_REDIS_URL) with a private schema / unique lock names.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
import urllib.request

import pytest

from data.locks import lock_name
from data.storage import Repository

from tests.backends import pg_schema, redis_prefix
from tests.fake_provider import FakeCoinGecko
from tests.integration.scaleout_support import (
    owner_of,
    process_env,
    scheduler_view,
    spawn,
    spawn_scheduler,
    stop,
    wait_for,
)


@pytest.fixture
def fake():
    provider = FakeCoinGecko().start()
    yield provider
    provider.stop()


@contextlib.contextmanager
def _store(backend: str, tmp_path):
    """(store url, extra env) for a scheduler backend; cleans up schemas and lock keys."""
    if backend == "file":
        yield f"sqlite:///{tmp_path / 'store.db'}", {}
    elif backend == "postgres":
        with pg_schema() as url:
            yield url, {}
    else:
        with redis_prefix() as (redis_url, _prefix):
            url = f"sqlite:///{tmp_path / 'store.db'}"
            yield url, {"REDIS_URL": redis_url, "BTCFOLIO__SCHEDULER__LOCK": "redis"}
            import redis

            redis.Redis.from_url(redis_url).delete(lock_name(url))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("backend", ["file", "postgres", "redis"])
def test_scaleout_two_schedulers_one_runs_and_kill9_hands_over(backend, fake, tmp_path):
    with _store(backend, tmp_path) as (url, extra):
        repo = Repository.from_url(url)   # migrated once before the processes race
        env = process_env(tmp_path, fake.url, BTCFOLIO__STORE__URL=url, **extra)
        first = spawn_scheduler(env, tmp_path / "first.log")
        second = None
        try:
            wait_for(lambda: scheduler_view(repo)["owner"] == owner_of(first), 30, "first leads")
            second = spawn_scheduler(env, tmp_path / "second.log")
            wait_for(lambda: owner_of(second) in scheduler_view(repo)["standby"], 30,
                     "second on standby")

            # One runner at a 1 s refresh makes 4 batched quote calls in 4 s (+1 at an edge);
            # two runners would make about 8.
            calls0, runs0 = fake.calls()["quotes"], scheduler_view(repo)["jobs"]["quotes"]["runs"]
            time.sleep(4)
            calls, view = fake.calls()["quotes"] - calls0, scheduler_view(repo)
            assert view["owner"] == owner_of(first) and view["standby"] == [owner_of(second)]
            assert view["lock"] == backend
            assert 3 <= calls <= 5, f"{calls} quote calls in 4 s"
            assert abs(calls - (view["jobs"]["quotes"]["runs"] - runs0)) <= 1
            assert fake.calls()["other"] == 0

            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            killed_at, calls_at_kill = time.monotonic(), fake.calls()["quotes"]
            wait_for(lambda: scheduler_view(repo)["owner"] == owner_of(second), 60,
                     "standby takes over")
            wait_for(lambda: fake.calls()["quotes"] >= calls_at_kill + 2, 60, "quotes resume")
            assert time.monotonic() - killed_at < 60

            assert stop(second) == 0              # SIGTERM: graceful, exit code 0
            assert scheduler_view(repo)["state"] == "not running"
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
            repo.engine.dispose()
