"""gunicorn settings of the production server: ``gunicorn -c gunicorn.conf.py app:server``.

``bash scripts/run.sh`` runs exactly that (``--dev`` runs Flask's development server instead).

* **Slow clients**: gevent workers. Each connection is a greenlet, not a thread, and gunicorn
  bounds the reading of a request's headers by ``keepalive`` seconds: 50 clients trickling
  headers cost 50 greenlets for 5 s each, while other requests are answered (tests/integration/
  test_gunicorn_serving.py). With ``gthread -w 2 --threads 4``, 8 such clients held every thread.
* **Bind and credentials**: the bind address comes from settings (``server.host``/``port``);
  ``on_starting`` refuses a non-loopback bind without credentials, a port in use and an
  unreachable store with one line and exit code 2 / 1 / 1, before any worker starts.
* **Scheduler**: the master runs ``python -m data.scheduler`` beside the workers and restarts
  it if it dies; its single-runner lock keeps it to one active scheduler per store.

Environment: ``BTCFOLIO_WORKERS`` (default 2; 1 in demo mode), and everything settings.py
reads (``BTCFOLIO__DEMO=true`` for the demo, ``BTCFOLIO__SERVER__PORT``, ...).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from settings import load_settings  # noqa: E402 - after the path: gunicorn may run elsewhere

_settings = load_settings(None, os.environ)

wsgi_app = "app:server"
bind = [f"[{_settings.server.host}]:{_settings.server.port}" if ":" in _settings.server.host
        else f"{_settings.server.host}:{_settings.server.port}"]
worker_class = "gevent"
# The demo's simulated feed lives in each worker's memory: one worker keeps every page on one
# walk (gevent serves many connections in it anyway).
workers = int(os.environ.get("BTCFOLIO_WORKERS", "1" if _settings.demo else "2"))
worker_connections = 1000
# Under gevent this is also the deadline for reading one request's headers (slowloris).
keepalive = 5
# A worker that answers nothing for this long is restarted (a stuck request).
timeout = 60
graceful_timeout = 20
# Requests are small (bodies are capped at 2 MiB by security.py): refuse huge header blocks.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn's control socket is one fixed path per user: two servers on a machine would clash.
control_socket_disable = True
chdir = str(ROOT)
accesslog = None
errorlog = "-"
loglevel = "info"


def _port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _addresses(binds: list[str]) -> list[tuple[str, int]]:
    """(host, port) of each TCP bind ("host:port", "[v6]:port"); unix sockets are local."""
    out = []
    for bind_spec in binds:
        if bind_spec.startswith(("unix:", "fd://")):
            continue
        host, _, port = bind_spec.rpartition(":")
        out.append((host.strip("[]"), int(port)))
    return out


def on_starting(server) -> None:  # untyped: gunicorn Arbiter
    """Refuse to start with one line: public bind without credentials, port in use, bad store.

    ``app.py --check`` runs in a child process so the master imports nothing heavy before it
    forks the gevent workers; it also migrates and seeds a new store once, before they boot.
    A ``-b`` on the command line overrides ``bind`` above: the addresses checked are the real
    ones.
    """
    for host, port in _addresses(server.cfg.bind):
        check = subprocess.run([sys.executable, str(ROOT / "app.py"), "--check", "--host", host,
                                "--port", str(port)], cwd=ROOT, capture_output=True, text=True,
                               env=os.environ.copy())
        if check.returncode != 0:
            lines = check.stderr.strip().splitlines()
            print(lines[-1] if lines else "startup check failed", file=sys.stderr)  # noqa: T201
            os._exit(check.returncode)
        if _port_in_use(host, port):
            print(f"startup failed: port {port} on {host} is in use by another program "  # noqa: T201
                  f"(set BTCFOLIO__SERVER__PORT or pass --port)", file=sys.stderr)
            os._exit(1)


_scheduler: dict = {"proc": None, "stopping": False}

# Popen waits on a close-on-exec pipe until its child has exec'd. A worker the master forks in
# that instant inherits the pipe's write end and never execs, so Popen blocked until the
# workers exited, and a scheduler that died in the meantime was never restarted (seen under
# load: tests/integration/system/test_gunicorn_serving.py). Every fork of this process waits
# for a scheduler start in progress, and no start begins during a fork.
_spawning = threading.RLock()
os.register_at_fork(before=_spawning.acquire, after_in_parent=_spawning.release,
                    after_in_child=_spawning.release)


def _start_scheduler() -> subprocess.Popen:
    with _spawning:
        return subprocess.Popen([sys.executable, "-m", "data.scheduler"], cwd=ROOT,
                                env=os.environ.copy())


def _supervise_scheduler(log) -> None:  # untyped: gunicorn logger
    """Run ``python -m data.scheduler`` and restart it if it dies (5 s back-off)."""
    while not _scheduler["stopping"]:
        proc = _start_scheduler()
        _scheduler["proc"] = proc
        # Poll, never a blocking wait: the master reaps its children itself (SIGCHLD), and a
        # blocking waitpid here missed the exit of a killed scheduler.
        while proc.poll() is None and not _scheduler["stopping"]:
            time.sleep(0.5)
        code = proc.returncode
        if _scheduler["stopping"]:
            return
        log.error("scheduler process exited with code %s; restarting in 5 s", code)
        time.sleep(5)


def when_ready(server) -> None:  # untyped: gunicorn Arbiter
    """Start the scheduler next to the workers (``scheduler.embedded: false`` leaves it to you).

    It runs as its own process, not inside a gevent worker: its job threads, rate limiter and
    provider calls then run on real threads, and its single-runner lock still guarantees one
    active scheduler per store even if another one is started by hand.
    """
    if _settings.scheduler.embedded:
        threading.Thread(target=_supervise_scheduler, args=(server.log,), daemon=True,
                         name="btcfolio-scheduler-supervisor").start()


def on_exit(server) -> None:  # untyped: gunicorn Arbiter
    """Stop the scheduler with the server (SIGTERM: it finishes or abandons its job)."""
    _scheduler["stopping"] = True
    proc = _scheduler["proc"]
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=_settings.scheduler.shutdown_timeout_seconds + 5)
        except subprocess.TimeoutExpired:
            proc.kill()
