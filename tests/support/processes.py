"""Helpers for the multi-process scheduler tests: environments, processes, bounded waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from data.store.repository import Repository
from data.store.scheduler_state import describe_scheduler
from tests.support.fake_provider import provider_env
from tests.support.sample import ROOT

# Short periods so takeover and counting fit in a few seconds.
FAST = {
    # Quotes every 2 s with a 1 s quote cache: every refresh of one runner calls the provider once.
    "BTCFOLIO__REFRESH__INTERVAL_SECONDS": "2",
    "BTCFOLIO__CACHE__QUOTE_TTL_SECONDS": "1",
    "BTCFOLIO__CACHE__HISTORY_TTL_SECONDS": "1",
    "BTCFOLIO__SOURCES__COINGECKO__RATE_LIMIT__PER_MINUTE": "6000",
    "BTCFOLIO__SCHEDULER__LOCK_TTL_SECONDS": "3",
    "BTCFOLIO__SCHEDULER__HEARTBEAT_SECONDS": "0.5",
    "BTCFOLIO__SCHEDULER__STANDBY_POLL_SECONDS": "0.5",
    "BTCFOLIO__SCHEDULER__SHUTDOWN_TIMEOUT_SECONDS": "10",
    "BTCFOLIO__SCHEDULER__EMBEDDED": "false",
}


def process_env(tmp_path: Path, provider_url: str, **extra: str) -> dict[str, str]:
    """A clean environment for app/scheduler processes: fake provider, fast timings, tmp cache."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(provider_env(provider_url))
    env.update(FAST)
    env["BTCFOLIO__CACHE__DIR"] = str(tmp_path / "cache")
    env["BTCFOLIO_DATA_DIR"] = str(tmp_path / "data")  # never the user's data dir
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a process from the repo root, output to a log file (never a pipe that can fill)."""
    out = open(log, "ab")  # closed with the process by the OS
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def spawn_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    return spawn([sys.executable, "-m", "data.scheduler"], env, log)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
    """Send a signal and wait (bounded) for the exit code; kill -9 if it hangs."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            raise
    return proc.returncode


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until predicate() is truthy; fail with a message after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def scheduler_view(repo: Repository) -> dict[str, Any]:
    return describe_scheduler(repo, now=datetime.now(timezone.utc), stale_after=6)


def owner_of(proc: subprocess.Popen) -> str:
    import socket

    return f"{socket.gethostname()}:{proc.pid}"
