"""Single-runner (leader) locks for the scheduler: file lock, PostgreSQL advisory lock, Redis lock.

Each lock is non-blocking: ``acquire()`` returns at once, ``refresh()`` is called by the leader
every heartbeat and says whether it still holds the lock, ``release()`` gives it up. All three
die with their holder, so a standby takes over after a ``kill -9``:

* file lock (``filelock``, an OS lock on a file next to the SQLite store): freed by the kernel
  when the process dies; one machine only.
* PostgreSQL ``pg_try_advisory_lock`` on a dedicated session: freed when the session ends
  (server-side TCP keepalives are shortened so a vanished host is noticed in about half a minute).
* Redis lock (redis-py ``Lock``) with a TTL the leader renews every heartbeat: a dead leader's
  lock expires after ``ttl`` seconds.

The lock name is derived from the store URL, so schedulers sharing one store compete for one
lock and schedulers of different stores (or test schemas) never block each other.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from abc import ABC, abstractmethod
from pathlib import Path

import filelock

from errors import ConfigError

logger = logging.getLogger(__name__)


def owner_id() -> str:
    """This process's identity as shown in /api/health (``host:pid``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_name(store_url: str) -> str:
    """A stable lock name for one store (never the URL itself: it may hold a password)."""
    return "btcfolio:scheduler:" + hashlib.sha256(store_url.encode()).hexdigest()[:16]


class LeaderLock(ABC):
    """A non-blocking lock that at most one process in the deployment holds."""

    kind: str = ""

    @abstractmethod
    def acquire(self) -> bool:
        """Try to take the lock; True when this process now holds it."""

    @abstractmethod
    def refresh(self) -> bool:
        """Renew or verify the lock (leader heartbeat); False when it has been lost."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (no error when it is not held)."""


class FileLeaderLock(LeaderLock):
    """An OS file lock (one machine): freed by the kernel when the holder dies."""

    kind = "file"

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # thread_local=False: the supervisor thread takes it, stop() may release it elsewhere.
        self._lock = filelock.FileLock(str(path), timeout=0, thread_local=False)
        self.path = str(path)

    def acquire(self) -> bool:
        """Take the file lock without waiting; True also when this process holds it already."""
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def refresh(self) -> bool:
        """Whether the lock is still held: an OS lock cannot be lost while its holder lives."""
        return self._lock.is_locked

    def release(self) -> None:
        """Free the file lock at once, from any thread of this process (the supervisor took it)."""
        if self._lock.is_locked:
            self._lock.release(force=True)


class PostgresLeaderLock(LeaderLock):
    """A session-level ``pg_try_advisory_lock`` held on a dedicated connection.

    A standby keeps its connection between attempts (no connection churn every poll).
    """

    kind = "postgres"

    def __init__(self, url: str, name: str, *, connect_timeout: float = 5) -> None:
        # The advisory key is a signed 64-bit integer derived from the lock name.
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self._url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._connect_timeout = int(max(1, connect_timeout))
        self._conn = None
        self._held = False

    def _close(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a broken connection may fail to close; it is gone
                pass

    def _connect(self):  # untyped: psycopg.Connection
        import psycopg

        conn = psycopg.connect(self._url, autocommit=True, connect_timeout=self._connect_timeout)
        # Let the server notice a vanished leader (no FIN) in ~30 s and free its lock.
        conn.execute("SET tcp_keepalives_idle = 10")
        conn.execute("SET tcp_keepalives_interval = 5")
        conn.execute("SET tcp_keepalives_count = 3")
        return conn

    def acquire(self) -> bool:
        """Try ``pg_try_advisory_lock`` on the dedicated session, connecting first if needed.

        A held lock is re-verified instead; a database error drops the session and answers False,
        so the next attempt reconnects.
        """
        import psycopg

        if self._held:
            return self.refresh()
        try:
            if self._conn is None:
                self._conn = self._connect()
            got = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]
        except psycopg.Error as exc:
            logger.warning("postgres leader lock unavailable: %s", exc.__class__.__name__)
            self._close()
            return False
        self._held = bool(got)
        return self._held

    def refresh(self) -> bool:
        """Check in ``pg_locks`` that this session still holds the advisory lock.

        A lost lock or a database error closes the session (so ``acquire`` starts afresh).
        """
        import psycopg

        if not self._held or self._conn is None:
            return False
        try:
            # The lock lives as long as the session: check the session still holds it.
            held = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND classid = ((%s::bigint >> 32) & 4294967295)::oid "
                "AND objid = (%s::bigint & 4294967295)::oid",
                (self.key, self.key)).fetchone()[0]
        except psycopg.Error as exc:
            logger.warning("postgres leader lock lost: %s", exc.__class__.__name__)
            self._close()
            return False
        if not held:
            self._close()
        return bool(held)

    def release(self) -> None:
        """Unlock and close the session; closing alone would free the lock if the unlock fails."""
        import psycopg

        if self._held and self._conn is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except psycopg.Error:
                pass  # closing the session frees the lock anyway
        self._close()


class RedisLeaderLock(LeaderLock):
    """A redis-py lock with a TTL; the leader renews it every heartbeat."""

    kind = "redis"

    def __init__(self, url: str, name: str, *, ttl: float, token: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._lock = self._client.lock(name, timeout=ttl, blocking=False, thread_local=False)
        self._token = token.encode()
        self.name = name

    def acquire(self) -> bool:
        """Take the Redis lock under this process's token, or keep it if the token still owns it.

        A Redis error answers False (logged): the standby simply tries again next poll.
        """
        import redis

        try:
            if self._lock.local.token is not None and self._lock.owned():
                # Still ours after a renewal failed on a network blip: keep it, renew the TTL.
                return self.refresh()
            return bool(self._lock.acquire(blocking=False, token=self._token))
        except redis.RedisError as exc:
            logger.warning("redis leader lock unavailable: %s", exc.__class__.__name__)
            return False

    def refresh(self) -> bool:
        """Reset the lock's TTL; False when the key expired or another token took it."""
        import redis

        try:
            # reacquire() resets the TTL and raises if the token is no longer ours.
            self._lock.reacquire()
        except redis.RedisError as exc:
            logger.warning("redis leader lock lost: %s", exc.__class__.__name__)
            return False
        return True

    def release(self) -> None:
        """Delete the lock if this token still owns it; on a Redis error its TTL frees it."""
        import redis

        try:
            if self._lock.owned():
                self._lock.release()
        except redis.RedisError:
            pass  # the TTL frees it


def _file_lock_path(settings) -> Path:  # untyped: Settings (avoids an import cycle)
    url = settings.store.url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///"):]).expanduser().with_suffix(".scheduler.lock")
    return Path(settings.cache.dir).expanduser() / "scheduler.lock"


def make_leader_lock(settings, *, token: str) -> LeaderLock:  # untyped: Settings
    """Build the lock ``scheduler.lock`` asks for (``auto`` picks by store and cache).

    Raises:
        ConfigError: a PostgreSQL or Redis lock was asked for but is not configured.
    """
    choice = settings.scheduler.lock
    store_url = settings.store.url
    is_pg = store_url.startswith("postgresql")
    if choice == "auto":
        choice = "postgres" if is_pg else ("redis" if settings.cache.redis_url else "file")
    name = lock_name(store_url)
    if choice == "postgres":
        if not is_pg:
            raise ConfigError("scheduler.lock: postgres needs a PostgreSQL store (DATABASE_URL)")
        return PostgresLeaderLock(store_url, name)
    if choice == "redis":
        if not settings.cache.redis_url:
            raise ConfigError("scheduler.lock: redis needs cache.redis_url (REDIS_URL)")
        return RedisLeaderLock(settings.cache.redis_url, name,
                               ttl=settings.scheduler.lock_ttl_seconds, token=token)
    return FileLeaderLock(_file_lock_path(settings))
