"""Scale-out: one scheduler runs jobs, takeover after kill -9, gunicorn workers add no calls.

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

from data.scheduling.locks import lock_name
from data.store.repository import Repository
from tests.support.backends import pg_schema, redis_prefix
from tests.support.fake_provider import FakeCoinGecko
from tests.support.processes import (
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
        with redis_prefix() as (redis_url, prefix):
            url = f"sqlite:///{tmp_path / 'store.db'}"
            yield url, {"REDIS_URL": redis_url, "BTCFOLIO__SCHEDULER__LOCK": "redis",
                        # cache and rate-limit keys under the prefix redis_prefix() deletes
                        "BTCFOLIO__CACHE__REDIS_KEY_PREFIX": prefix.rstrip(":")}
            import redis

            redis.Redis.from_url(redis_url).delete(lock_name(url))


@pytest.mark.parametrize("backend", [
    "file",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("redis", marks=pytest.mark.redis),
])
def test_scaleout_two_schedulers_one_runs_and_kill9_hands_over(backend, fake, tmp_path):
    with _store(backend, tmp_path) as (url, extra):
        repo = Repository.from_url(url)   # migrated once before the processes race
        env = process_env(tmp_path, fake.url, BTCFOLIO__STORE__URL=url, **extra)
        # Each process its own file cache: if both ran jobs, both would call the provider. (With
        # REDIS_URL the quote cache is shared, so there a double runner would be partly masked;
        # tests/unit/data/test_scheduler.py counts job runs per lock kind exactly.)
        first = spawn_scheduler({**env, "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache1")},
                                tmp_path / "first.log")
        second = None
        try:
            wait_for(lambda: scheduler_view(repo)["owner"] == owner_of(first), 30, "first leads")
            second = spawn_scheduler({**env, "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache2")},
                                     tmp_path / "second.log")
            wait_for(lambda: owner_of(second) in scheduler_view(repo)["standby"], 30,
                     "second on standby")

            # One runner at a 2 s refresh makes 3 batched quote calls in 6 s (one more or less at
            # the edges); two runners would make about 6.
            calls0, runs0 = fake.calls()["quotes"], scheduler_view(repo)["jobs"]["quotes"]["runs"]
            time.sleep(6)
            calls, view = fake.calls()["quotes"] - calls0, scheduler_view(repo)
            assert view["owner"] == owner_of(first) and view["standby"] == [owner_of(second)]
            assert view["lock"] == backend
            assert 1 <= calls <= 4, f"{calls} quote calls in 6 s"
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read()
    except OSError:
        return 0, b""


def _hammer(port: int, seconds: float) -> int:
    """Load every web worker with page, API and health requests; return how many succeeded."""
    from concurrent.futures import ThreadPoolExecutor

    paths = ("/api/health", "/api/portfolio", "/portfolio/dashboard")
    deadline = time.monotonic() + seconds

    def loop(offset: int) -> int:
        ok = 0
        while time.monotonic() < deadline:
            ok += _get(port, paths[(ok + offset) % len(paths)])[0] == 200
        return ok

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(loop, range(8)))


def _serve_and_count(workers: int, fake: FakeCoinGecko, tmp_path) -> tuple[int, dict]:
    """gunicorn -w N app:server + one scheduler on a fresh PostgreSQL schema and Redis.

    Returns the provider calls made during a fixed 5 s scheduler window, and /api/health's
    scheduler section as a web worker served it.
    """
    import json

    with pg_schema() as url, redis_prefix() as (redis_url, prefix):
        repo = Repository.from_url(url)
        env = process_env(tmp_path, fake.url, DATABASE_URL=url, REDIS_URL=redis_url,
                          BTCFOLIO__CACHE__REDIS_KEY_PREFIX=prefix.rstrip(":"))
        port = _free_port()
        web = spawn([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
                     f"127.0.0.1:{port}", "--timeout", "60", "--no-control-socket", "app:server"],
                    env, tmp_path / f"gunicorn{workers}.log")
        sched = None
        try:
            wait_for(lambda: _get(port, "/api/health")[0] == 200, 45, "gunicorn serving")
            start = fake.total()
            assert _hammer(port, 1.5) > 0
            assert fake.total() == start, "web workers alone called the provider"
            sched = spawn_scheduler(env, tmp_path / f"scheduler{workers}.log")
            wait_for(lambda: scheduler_view(repo)["owner"] == owner_of(sched), 30,
                     "scheduler running")
            assert _hammer(port, 5) > 0
            status, body = _get(port, "/api/health")
            assert status == 200
            health = json.loads(body)["scheduler"]
            assert stop(sched) == 0
            calls = fake.total() - start
            # Without the scheduler, the loaded web workers make no provider call at all.
            assert _hammer(port, 1.5) > 0
            assert fake.total() - start == calls
            return calls, health
        finally:
            for proc in (sched, web):
                if proc is not None and proc.poll() is None:
                    stop(proc)
            repo.engine.dispose()
            with contextlib.suppress(ImportError):
                import redis

                redis.Redis.from_url(redis_url).delete(lock_name(url))


@pytest.mark.postgres
@pytest.mark.redis
def test_scaleout_four_gunicorn_workers_make_no_more_provider_calls_than_one(fake, tmp_path):
    one, _ = _serve_and_count(1, fake, tmp_path)
    four, health = _serve_and_count(4, fake, tmp_path)
    assert one > 0
    sys.stderr.write(f"provider calls in the window: 1 worker {one}, 4 workers {four}\n")
    # Same 5 s window: equal up to one quote refresh falling on either side of its edge.
    assert four <= one + 1, f"4 workers: {four} provider calls, 1 worker: {one}"
    assert health["state"] == "running" and health["lock"] == "postgres"
    quotes = health["jobs"]["quotes"]
    # Crypto quotes come from the fake; equities have no enabled source here: "partial".
    assert quotes["outcome"] == "partial" and quotes["runs"] >= 1
    assert "AAPL" in quotes["error"] and "BTC" not in quotes["error"]
    assert quotes["last_run"] < quotes["next_run"]


def test_app_runs_the_embedded_scheduler_and_stops_it_on_sigterm(fake, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = process_env(tmp_path, fake.url, BTCFOLIO__STORE__URL=url,
                      BTCFOLIO__SCHEDULER__EMBEDDED="true")
    port = _free_port()
    app = spawn([sys.executable, "app.py", "--port", str(port)], env, tmp_path / "app.log")
    try:
        wait_for(lambda: _get(port, "/api/health")[0] == 200, 30, "app serving")
        repo = Repository.from_url(url)
        view = wait_for(lambda: (v := scheduler_view(repo))["state"] == "running" and v, 30,
                        "embedded scheduler running")
        assert view["owner"] == owner_of(app) and view["lock"] == "file"
        wait_for(lambda: fake.calls()["quotes"] >= 1, 30, "a quote refresh")
        assert stop(app) == 0
        # Graceful: the state row is gone and the file lock is free for the next start.
        assert scheduler_view(repo)["state"] == "not running"
        from data.scheduling.locks import FileLeaderLock

        assert FileLeaderLock(tmp_path / "store.scheduler.lock").acquire() is True
    finally:
        if app.poll() is None:
            app.kill()


def test_importing_app_or_building_the_wsgi_server_starts_no_scheduler(tmp_path):
    code = ("import threading, app; app.server; "
            "names = [t.name for t in threading.enumerate()]; "
            "assert 'btcfolio-scheduler' not in names, names; print('ok')")
    env = process_env(tmp_path, "http://127.0.0.1:9",
                      BTCFOLIO__STORE__URL=f"sqlite:///{tmp_path / 'store.db'}",
                      BTCFOLIO__SCHEDULER__EMBEDDED="true")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path.parent), env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_scheduler_sigterm_lets_the_running_ingest_finish(fake, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    repo = Repository.from_url(url)
    fake.history_delay = 1.5
    env = process_env(tmp_path, fake.url, BTCFOLIO__STORE__URL=url,
                      BTCFOLIO__SCHEDULER__BACKFILL_DAYS="30",
                      BTCFOLIO__SCHEDULER__HISTORY_DAYS_BACK="30")
    sched = spawn_scheduler(env, tmp_path / "scheduler.log")
    try:
        assert fake.history_started.wait(30), "no history request"
        signalled = time.monotonic()
        assert stop(sched, signal.SIGTERM, timeout=30) == 0
        # It finished the symbols in flight (1.5 s answers) but started no new one: 7 coins
        # per job would take over 10 s.
        assert time.monotonic() - signalled < 8
    finally:
        if sched.poll() is None:
            sched.kill()
    # Every symbol the run got to is stored completely, none half-written: the fake serves one
    # point per UTC midnight of the 31-date window; CoinGecko's midnight point closes the
    # previous date, so the first one falls before the window and 30 bars remain.
    prices = repo.load_prices(interval="1d")
    counts = prices[prices["source"] == "coingecko"].groupby("symbol").size()
    assert 1 <= len(counts) < 7
    assert set(counts) == {30}, counts.to_dict()
