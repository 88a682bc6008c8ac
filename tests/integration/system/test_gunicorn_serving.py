"""The production server: real gunicorn processes, bounded in time.

Red-team failures covered here: with ``-w 2 --threads 4`` (gthread), 8 slow-header connections
made the server unresponsive; 3 of 10 ``gunicorn`` starts on a fresh SQLite store died with
"Worker failed to boot" (workers migrating at once); ``gunicorn -b 0.0.0.0 app:server`` served
everything without a login.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.fake_provider import FakeCoinGecko, provider_env
from tests.support.processes import wait_for
from tests.support.sample import ROOT

NO_PROVIDERS = {f"BTCFOLIO__SOURCES__{s}__ENABLED": "false"
                for s in ("COINGECKO", "COINMARKETCAP", "ALPHAVANTAGE", "YAHOO")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
                "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT),
                **NO_PROVIDERS})
    env.update(extra)
    return env


def _gunicorn(args: list[str], env: dict[str, str], log: Path, *,
              cwd: Path = ROOT) -> subprocess.Popen:
    # gunicorn reads ./gunicorn.conf.py by itself: the plain-command tests run elsewhere.
    out = open(log, "ab")  # closed with the process
    return subprocess.Popen([sys.executable, "-m", "gunicorn", *args], cwd=cwd, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _answers(port: int) -> bool:
    try:
        return _get(port, "/api/health", timeout=2)[0] == 200
    except OSError:
        return False


class _SlowClients:
    """Sockets that send a request line and then one header line per second, never finishing."""

    def __init__(self, port: int, count: int) -> None:
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        for s in self.socks:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        while not self.stop.wait(1.0):
            for s in self.socks:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass  # the server gave up on it: that is allowed

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for s in self.socks:
            s.close()


def test_serving_answers_while_50_slow_clients_trickle_headers(tmp_path):
    port = _free_port()
    env = _env(tmp_path, BTCFOLIO__SCHEDULER__EMBEDDED="false", BTCFOLIO_WORKERS="2")
    proc = _gunicorn(["-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"], env,
                     tmp_path / "gunicorn.log")
    try:
        wait_for(lambda: _answers(port), 90, "gunicorn to answer")
        slow = _SlowClients(port, 50)
        try:
            latencies = []
            for _ in range(20):  # ~8 s of normal traffic while the 50 trickle
                start = time.monotonic()
                status, body = _get(port, "/api/portfolio", timeout=5)
                latencies.append(time.monotonic() - start)
                assert status == 200 and json.loads(body)["assets"]
                time.sleep(0.3)
        finally:
            slow.close()
        assert max(latencies) < 2.0, latencies
    finally:
        _stop(proc)
    assert "Worker failed to boot" not in (tmp_path / "gunicorn.log").read_text()


@pytest.mark.parametrize("attempt", range(3))
def test_serving_four_workers_boot_together_on_a_fresh_store(tmp_path, attempt):
    # The plain command (no gunicorn.conf.py, no pre-start check): every worker opens the
    # fresh store itself; the store's start-up lock makes them take turns.
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    proc = _gunicorn(["--no-control-socket", "-w", "4", "-b", f"127.0.0.1:{port}",
                      "app:server"], _env(tmp_path), log, cwd=tmp_path)
    try:
        wait_for(lambda: _answers(port) or proc.poll() is not None, 120, "gunicorn to answer")
        assert proc.poll() is None, log.read_text()[-3000:]
        wait_for(lambda: log.read_text().count("Booting worker") >= 4, 30, "4 workers")
        time.sleep(2)  # a worker failing to boot would do so within this
        text = log.read_text()
        assert "Worker failed to boot" not in text and "Traceback" not in text, text[-3000:]
        assert proc.poll() is None
        portfolio = json.loads(_get(port, "/api/portfolio")[1])
        assert {a["symbol"] for a in portfolio["assets"]} >= {"BTC", "ETH"}
    finally:
        _stop(proc)


def test_serving_public_bind_without_credentials_serves_nothing_under_gunicorn(tmp_path):
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    proc = _gunicorn(["--no-control-socket", "-w", "1", "-b", f"0.0.0.0:{port}", "app:server"],
                     _env(tmp_path), log, cwd=tmp_path)
    try:
        wait_for(lambda: proc.poll() is not None or "Booting worker" in log.read_text(), 60,
                 "a worker")
        wait_for(lambda: _get_status(port, "/api/health") == 503, 60, "the bind guard")
        for path in ("/api/portfolio", "/portfolio/dashboard", "/_dash-layout"):
            assert _get(port, path)[0] == 503
    finally:
        _stop(proc)


def _get_status(port: int, path: str) -> int | None:
    try:
        return _get(port, path, timeout=2)[0]
    except OSError:
        return None


@pytest.mark.parametrize("args", [["-c", "gunicorn.conf.py"], ["app:server"]],
                         ids=["conf", "plain-command-in-the-checkout"])
def test_serving_conf_refuses_public_bind_without_credentials_in_one_line(tmp_path, args):
    # From the checkout, even the plain `gunicorn -b 0.0.0.0 app:server` reads gunicorn.conf.py.
    port = _free_port()
    proc = subprocess.run([sys.executable, "-m", "gunicorn", *args, "-b", f"0.0.0.0:{port}"],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "refusing to bind 0.0.0.0 (not loopback) without auth" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serving_conf_reports_a_port_in_use_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b",
                               f"127.0.0.1:{port}"], cwd=ROOT, env=_env(tmp_path),
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in proc.stderr
    assert "Traceback" not in proc.stderr


def _scheduler_pids(master: int) -> list[int]:
    """Processes running ``-m data.scheduler`` whose parent is the gunicorn master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"data.scheduler" in cmd and ppid == master:
            pids.append(int(entry.name))
    return pids


def test_serving_runs_one_scheduler_beside_the_workers_and_restarts_it(tmp_path):
    fake = FakeCoinGecko().start()
    port = _free_port()
    env = _env(tmp_path, **provider_env(fake.url), BTCFOLIO__SOURCES__COINGECKO__ENABLED="true",
               BTCFOLIO__REFRESH__INTERVAL_SECONDS="2", BTCFOLIO__CACHE__QUOTE_TTL_SECONDS="1",
               # Gap healing shares CoinGecko's budget; at the default 10/min it delays quotes.
               BTCFOLIO__SOURCES__COINGECKO__RATE_LIMIT__PER_MINUTE="600",
               BTCFOLIO_WORKERS="2")
    proc = _gunicorn(["-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"], env,
                     tmp_path / "gunicorn.log")
    try:
        wait_for(lambda: _answers(port), 90, "gunicorn to answer")
        first = wait_for(lambda: _scheduler_pids(proc.pid), 30, "the scheduler process")
        assert len(first) == 1
        health = json.loads(_get(port, "/api/health")[1])
        assert health["demo"] is False  # demo mode stores simulated quotes, calls no provider
        try:
            wait_for(lambda: fake.calls()["quotes"] >= 2, 30, "quote jobs")
        except AssertionError:
            log = (tmp_path / "gunicorn.log").read_text(errors="replace")
            raise AssertionError(f"{fake.calls()} {log[-3000:]}") from None
        # One scheduler: over ~6 s at a 2 s period, about 3 quote calls, never 2 per tick.
        before, start = fake.calls()["quotes"], time.monotonic()
        time.sleep(6)
        made = fake.calls()["quotes"] - before
        assert 1 <= made <= (time.monotonic() - start) / 2 + 1, made
        os.kill(first[0], signal.SIGKILL)
        try:  # the master restarts it after a 5 s back-off (an import takes a while when busy)
            again = wait_for(lambda: [p for p in _scheduler_pids(proc.pid) if p != first[0]],
                             60, "the scheduler restarted")
        except AssertionError:
            log = (tmp_path / "gunicorn.log").read_text(errors="replace")
            raise AssertionError(log[-3000:]) from None
        assert len(again) == 1
        assert _get(port, "/portfolio/dashboard")[0] == 200
    finally:
        _stop(proc)
        fake.stop()
    assert _scheduler_pids(proc.pid) == []


FORK_DURING_START = """
import os, runpy, threading, time
conf = runpy.run_path("gunicorn.conf.py")
held = threading.Event()

def start():  # a scheduler start in progress (Popen waiting for its child's exec)
    with conf["_spawning"]:
        held.set()
        time.sleep(1.0)

threading.Thread(target=start).start()
held.wait()
t0 = time.monotonic()
pid = os.fork()  # what the master does to boot a worker
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print(time.monotonic() - t0)
"""


def test_serving_a_worker_is_never_forked_while_the_scheduler_starts(tmp_path):
    # A worker forked while Popen waits for the scheduler's exec kept Popen's pipe open, so the
    # supervisor hung until the workers exited and never restarted a dead scheduler.
    out = subprocess.run([sys.executable, "-c", FORK_DURING_START], cwd=ROOT, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) >= 0.9  # the fork waited for the start
