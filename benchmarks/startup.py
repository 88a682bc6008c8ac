"""Startup to the first HTTP 200 and peak RSS of the app process at 200 assets.

Measured: ``python app.py --port <free> --config <benchmark config>`` as a subprocess, offline
(every provider points at 127.0.0.1:9, the embedded scheduler runs and fails fast), on a
store holding 200 assets × 5 years of daily history. Startup = from spawning the process to
the first 200 of GET /portfolio/dashboard. Peak RSS = the process's VmHWM (Linux) after a few
refreshes (real /_dash-update-component POSTs over HTTP) and an /api/health call.

Baseline: the smallest Dash app (one html.Div, same interpreter and libraries installed)
started and measured the same way: the floor of "Python + Flask + Dash".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from benchmarks.common import Result, median, ratio
from benchmarks.dash_client import INTERVAL
from benchmarks.dataset import ROOT, build_store
from benchmarks.refresh import RefreshTab

DASHBOARD = "/portfolio/dashboard"
TIMEOUT_S = 60
MINIMAL_APP = """
import sys
from dash import Dash, html
app = Dash(__name__)
app.layout = html.Div("hello")
app.run(host="127.0.0.1", port=int(sys.argv[1]), debug=False)
"""


def free_port() -> int:
    """A loopback port free right now (the OS picks it; a race with others is unlikely)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # loopback only
            resp.read()
            return resp.status
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def peak_rss_mb(pid: int) -> float:
    """High-water resident set of a process in MB (VmHWM; current RSS where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return psutil.Process(pid).memory_info().rss / 2**20


class Server:
    """A server subprocess on a free loopback port, stopped on exit."""

    def __init__(self, args: list[str], env: dict[str, str], path: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, *args, *self._port_args(args)],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        while _get(self.base + path) != 200:
            if self.proc.poll() is not None or time.perf_counter() - start > TIMEOUT_S:
                self.stop()
                raise RuntimeError(f"{args[0]} did not answer 200 on {path}")
            time.sleep(0.02)
        self.startup_ms = (time.perf_counter() - start) * 1000

    def _port_args(self, args: list[str]) -> list[str]:
        return ["--port", str(self.port)] if args[0] == "app.py" else [str(self.port)]

    def stop(self) -> None:
        """Terminate the server, killing it if it does not exit within 15 s."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCFOLIO")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, **extra}


def serve_refreshes(base: str, n: int) -> None:
    """A browser's first n refresh ticks, over HTTP."""
    def get_json(path: str) -> object:
        with urllib.request.urlopen(base + path, timeout=30) as resp:  # loopback
            return json.loads(resp.read())

    def post(path: str, body: bytes) -> tuple[int, bytes]:
        req = urllib.request.Request(base + path, data=body,  # loopback
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()

    tab = RefreshTab(get_json, post)
    for tick in range(n):
        tab.tab.props[INTERVAL] = tick
        tab.send(tab.refresh_cb, [INTERVAL])
    _get(base + "/api/health")


def results(*, quick: bool) -> list[Result]:
    """Startup time and peak RSS of the app at 200 assets vs a one-Div Dash app (1 or 3 runs)."""
    runs = 1 if quick else 3
    app_ms, app_rss, base_ms, base_rss = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "startup", 200)
        store.repo.engine.dispose()
        env = _env({"BTCFOLIO_CONFIG": str(store.config_path)})
        for _ in range(runs):
            app = Server(["app.py", "--config", str(store.config_path)], env, DASHBOARD)
            try:
                app_ms.append(app.startup_ms)
                serve_refreshes(app.base, 3)
                app_rss.append(peak_rss_mb(app.proc.pid))
            finally:
                app.stop()
            floor = Server(["-c", MINIMAL_APP], _env({}), "/")
            try:
                base_ms.append(floor.startup_ms)
                _get(floor.base + "/")
                base_rss.append(peak_rss_mb(floor.proc.pid))
            finally:
                floor.stop()
    ms, bms, rss, brss = median(app_ms), median(base_ms), median(app_rss), median(base_rss)
    return [Result("startup to first 200, 200 assets", round(ms / 1000, 3), "s",
                   round(bms / 1000, 3), ratio(ms, bms), "<= 3 s", ms <= 3000),
            Result("peak RSS after refreshes, 200 assets", round(rss, 1), "MB", round(brss, 1),
                   ratio(rss, brss), "<= 300 MB", rss <= 300)]
