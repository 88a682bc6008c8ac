"""The README's start path writes nothing into the checkout: store, cache and lock go to the
data directory (BTCFOLIO_DATA_DIR here; the platform's user data dir by default)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.sample import ROOT

GIT = shutil.which("git")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(cwd, *args) -> str:
    return subprocess.run([GIT, "-c", "user.email=t@example.invalid", "-c", "user.name=t",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _clone_checkout(dest) -> None:
    """A committed copy of the checkout's files (tracked and new), as a fresh clone has."""
    files = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, files.split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-qm", "copy")


def _wait_for(url: str, seconds: float) -> int | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status
        except OSError:
            time.sleep(0.2)
    return None


@pytest.mark.skipif(GIT is None, reason="needs git")
def test_start_from_checkout_leaves_git_status_clean_and_data_in_data_dir(tmp_path):
    checkout, data_dir = tmp_path / "checkout", tmp_path / "data"
    checkout.mkdir()
    _clone_checkout(checkout)
    port = _free_port()
    closed = {f"BTCFOLIO__SOURCES__{name.upper()}__BASE_URL": "http://127.0.0.1:9"
              for name in ("coingecko", "coinmarketcap", "alphavantage", "yahoo")}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(closed, BTCFOLIO_DATA_DIR=str(data_dir))
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=checkout,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/api/portfolio", 30) == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert _git(checkout, "status", "--porcelain", "--untracked-files=all") == ""
    # Ignored files count too (*.db and .cache/ are in .gitignore): only bytecode may appear.
    ignored = _git(checkout, "status", "--porcelain", "--ignored", "--untracked-files=all")
    assert [line for line in ignored.splitlines() if "__pycache__/" not in line] == []
    written = {p.name for p in data_dir.iterdir()}
    assert {"btcfolio.db", "cache"} <= written
    assert any(name.endswith(".lock") for name in written)
