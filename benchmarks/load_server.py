"""gunicorn serving btcfolio on a loopback port, on a temporary SQLite store seeded from the sample.

Every provider points at 127.0.0.1:9 (a closed port): a web worker never calls providers anyway
(only the scheduler does, and gunicorn workers never start one), so nothing leaves the machine
even if that changed. The store is seeded here, once, before the workers start, so the workers
do not race on migrations and seeding and the measured startup is the app's, not the seed's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOSED_PORT_URL = "http://127.0.0.1:9"
SOURCES = ("COINGECKO", "COINMARKETCAP", "ALPHAVANTAGE", "YAHOO")


@dataclass(frozen=True)
class ServerSpec:
    """gunicorn as production runs it: ``gunicorn -c gunicorn.conf.py`` (gevent workers).

    Only the bind (a loopback socket handed in as ``fd://N``) and the worker count
    (``BTCFOLIO_WORKERS``, which gunicorn.conf.py reads) come from here; the worker class,
    ``worker_connections``, ``keepalive`` and timeouts are the production file's.
    """

    workers: int = 2
    # gunicorn.conf.py's keepalive (s): the client must drop idle connections before this, as a
    # browser does, or it would reuse a socket the server has just closed (a reset no user sees).
    keep_alive_seconds: float = 5.0
    config: Path = ROOT / "gunicorn.conf.py"


def server_env(workdir: Path) -> dict[str, str]:
    """Environment of the app processes: temporary store and cache, providers unreachable."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    for source in SOURCES:
        env[f"BTCFOLIO__SOURCES__{source}__BASE_URL"] = CLOSED_PORT_URL
    env.update({
        "BTCFOLIO__STORE__URL": f"sqlite:///{workdir / 'store.db'}",
        "BTCFOLIO__CACHE__DIR": str(workdir / "cache"),
        "BTCFOLIO_DATA_DIR": str(workdir / "data"),   # nothing in the user's data dir
        # Documents intent: gunicorn workers never start the scheduler (only `python app.py`).
        "BTCFOLIO__SCHEDULER__EMBEDDED": "false",
        "PYTHONPATH": str(ROOT),
    })
    return env


def seed(env: dict[str, str]) -> None:
    """Migrate and seed the store once (sample history + sample portfolio), in a child process.

    A child keeps pandas and the app's modules out of the load client's process.
    """
    code = ("from settings import load_settings; from data.store.seed import open_store; "
            "open_store(load_settings(None)).engine.dispose()")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=300)


def _listening_socket() -> socket.socket:
    # Bound here and handed to gunicorn (fd://): no race for a free port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode} before serving")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(url, timeout=5) as answer:  # loopback
                if answer.status == 200:
                    return
        if time.monotonic() > deadline:
            raise TimeoutError(f"gunicorn not serving {url} after {timeout:.0f} s")
        time.sleep(0.2)


def server_errors(workdir: Path, limit: int = 5) -> list[str]:
    """The last exception lines of the server log (why a request answered 500)."""
    try:
        lines = (workdir / "gunicorn.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = [line for line in lines.splitlines()
             if line[:1] not in (" ", "") and ("Error" in line or "Exception" in line)]
    return found[-limit:]


@contextlib.contextmanager
def gunicorn(workdir: Path, spec: ServerSpec = ServerSpec(), *,
             extra_env: dict[str, str] | None = None,
             ready_timeout: float = 90) -> Iterator[str]:
    """Serve ``app:server`` on a seeded store under ``workdir``; yield the base URL.

    ``extra_env`` overlays the environment (e.g. ``BTCFOLIO_CONFIG`` of a benchmark store whose
    ``store.db`` is in ``workdir``, or a shorter ``BTCFOLIO__REFRESH__INTERVAL_SECONDS``).
    """
    env = {**server_env(workdir), **(extra_env or {})}
    seed(env)
    sock = _listening_socket()
    fd = sock.fileno()
    env["BTCFOLIO_WORKERS"] = str(spec.workers)
    # The command line overrides the config file's bind (and quietens its info log).
    args = [sys.executable, "-m", "gunicorn", "-c", str(spec.config), "-b", f"fd://{fd}",
            "--log-level", "warning", "app:server"]
    log = open(workdir / "gunicorn.log", "ab")  # closed below
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            pass_fds=(fd,))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        _wait_ready(f"{base}/api/health", proc, ready_timeout)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        sock.close()
        log.close()
