"""Single-runner locks: exclusive, renewable, freed on holder death (file, PostgreSQL, Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from data.scheduling.locks import (
    FileLeaderLock,
    PostgresLeaderLock,
    RedisLeaderLock,
    lock_name,
    make_leader_lock,
)
from errors import ConfigError
from settings import load_settings
from tests.support.backends import pg_schema, redis_prefix
from tests.support.sample import ROOT


def _hold_in_child(code: str) -> subprocess.Popen:
    """Run code that takes a lock in a child, wait until it prints 'held'."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_file_lock_is_exclusive_and_released(tmp_path):
    first, second = FileLeaderLock(tmp_path / "s.lock"), FileLeaderLock(tmp_path / "s.lock")
    assert first.acquire() is True
    assert second.acquire() is False
    assert first.refresh() is True
    first.release()
    assert first.refresh() is False
    assert second.acquire() is True
    second.release()


def test_file_lock_freed_when_holder_is_killed(tmp_path):
    path = tmp_path / "s.lock"
    proc = _hold_in_child(f"""
        import time
        from data.scheduling.locks import FileLeaderLock
        lock = FileLeaderLock({str(path)!r})
        assert lock.acquire()
        print("held", flush=True)
        time.sleep(60)
    """)
    try:
        standby = FileLeaderLock(path)
        assert standby.acquire() is False
        _kill9(proc)
        assert standby.acquire() is True
    finally:
        proc.kill()


@pytest.mark.postgres
def test_postgres_lock_is_exclusive_and_freed_when_holder_is_killed():
    with pg_schema() as url:
        name = lock_name(url)
        proc = _hold_in_child(f"""
            import time
            from data.scheduling.locks import PostgresLeaderLock
            lock = PostgresLeaderLock({url!r}, {name!r})
            assert lock.acquire() and lock.refresh()
            print("held", flush=True)
            time.sleep(60)
        """)
        standby = PostgresLeaderLock(url, name)
        try:
            assert standby.acquire() is False
            assert standby.refresh() is False
            _kill9(proc)
            # The server ends the dead session and frees its advisory lock within moments.
            deadline = time.monotonic() + 10
            while not standby.acquire():
                assert time.monotonic() < deadline, "advisory lock not freed after kill -9"
                time.sleep(0.2)
            assert standby.refresh() is True
            assert PostgresLeaderLock(url, name).acquire() is False
        finally:
            proc.kill()
            standby.release()
        assert PostgresLeaderLock(url, "another store").acquire() is True


@pytest.mark.redis
def test_redis_lock_expires_when_not_renewed_and_cannot_be_renewed_after():
    with redis_prefix() as (url, prefix):
        leader = RedisLeaderLock(url, prefix + "lock", ttl=1, token="host:1")
        standby = RedisLeaderLock(url, prefix + "lock", ttl=1, token="host:2")
        assert leader.acquire() is True
        assert standby.acquire() is False
        time.sleep(0.6)
        assert leader.refresh() is True        # renewed: the TTL starts again
        time.sleep(0.6)
        assert standby.acquire() is False      # 1.2 s after acquire, still held thanks to renewal
        time.sleep(1.2)                        # leader "dead": no renewal
        assert standby.acquire() is True
        assert leader.refresh() is False       # the old leader learns it lost the lock
        standby.release()


def _settings(tmp_path, **env):
    base = {"BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
            "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache")}
    return load_settings(ROOT / "config.yaml", {**base, **env})


def test_make_leader_lock_auto_picks_by_configuration(tmp_path):
    lock = make_leader_lock(_settings(tmp_path), token="t")
    assert isinstance(lock, FileLeaderLock)
    assert lock.path == str(tmp_path / "store.scheduler.lock")
    redis_lock = make_leader_lock(_settings(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15"),
                                  token="t")
    assert isinstance(redis_lock, RedisLeaderLock)
    pg_lock = make_leader_lock(_settings(tmp_path, DATABASE_URL="postgresql://u@127.0.0.1/db",
                                         REDIS_URL="redis://127.0.0.1:6379/15"), token="t")
    assert isinstance(pg_lock, PostgresLeaderLock)


def test_make_leader_lock_rejects_unconfigured_backend(tmp_path):
    with pytest.raises(ConfigError, match="redis"):
        make_leader_lock(_settings(tmp_path, BTCFOLIO__SCHEDULER__LOCK="redis"), token="t")
    with pytest.raises(ConfigError, match="PostgreSQL"):
        make_leader_lock(_settings(tmp_path, BTCFOLIO__SCHEDULER__LOCK="postgres"), token="t")


def test_lock_name_differs_per_store_and_hides_the_url():
    a = lock_name("postgresql://u:secret@h/db?options=-csearch_path%3Da")
    b = lock_name("postgresql://u:secret@h/db?options=-csearch_path%3Db")
    assert a != b
    assert "secret" not in a


def test_heartbeat_must_be_within_half_the_ttl(tmp_path):
    with pytest.raises(ConfigError, match="heartbeat_seconds"):
        _settings(tmp_path, BTCFOLIO__SCHEDULER__LOCK_TTL_SECONDS="10",
                  BTCFOLIO__SCHEDULER__HEARTBEAT_SECONDS="6")


@pytest.mark.redis
def test_redis_lock_still_ours_after_a_failed_renewal_is_taken_back_at_once():
    import redis

    with redis_prefix() as (url, prefix):
        leader = RedisLeaderLock(url, prefix + "lock", ttl=5, token="host:1")
        assert leader.acquire() is True
        good = leader._lock.redis
        leader._lock.redis = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        assert leader.refresh() is False            # Redis "unreachable": leadership dropped
        leader._lock.redis = good
        assert leader.acquire() is True             # the key still holds our token
        assert RedisLeaderLock(url, prefix + "lock", ttl=5, token="host:2").acquire() is False
        leader.release()
