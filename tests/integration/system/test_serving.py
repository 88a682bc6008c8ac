"""Serving: a busy port or an unreachable store is one line and exit 1; unknown pages are 404."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from app import create_app
from serving import is_known_page, port_in_use_message
from tests.support.sample import ROOT


def _run_app(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    base.update({"BTCFOLIO_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=60)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_port_in_use_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run_app(tmp_path, "--port", str(port))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"cannot start: port {port} on 127.0.0.1 is already in use (another btcfolio or another "
        f"server): stop it, or start with --port {port + 1}"]
    assert not (tmp_path / "data").exists()      # nothing was started or written


def test_port_check_passes_on_a_free_port():
    assert port_in_use_message("127.0.0.1", _closed_port()) is None


def test_unreachable_store_is_one_line_and_exit_1(tmp_path):
    port = _closed_port()
    proc = _run_app(tmp_path, "--port", str(_closed_port()),
                    DATABASE_URL=f"postgresql://btc:s3cret-pass@127.0.0.1:{port}/btc")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines == [f"startup failed: cannot reach the PostgreSQL store "
                     f"postgresql://btc:***@127.0.0.1:{port}/btc: connection to server at "
                     f"\"127.0.0.1\", port {port} failed: Connection refused"], lines
    assert "s3cret" not in proc.stderr + proc.stdout


def test_unwritable_data_dir_is_one_line_and_exit_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    proc = _run_app(tmp_path, "--port", str(_closed_port()),
                    BTCFOLIO_DATA_DIR=str(blocker / "data"))
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith(f"startup failed: cannot create the store folder {blocker}")


@pytest.fixture
def client(settings, repo):
    return create_app(settings, repo).server.test_client()


@pytest.mark.parametrize("path", ["/nope", "/portfolio/nope", "/portfolio/dashboard/extra",
                                  "/404", "/wp-login.php"])
def test_unknown_page_answers_404_with_the_dash_page(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "_dash-renderer" in resp.get_data(as_text=True)     # the 404 page renders


def test_known_routes_keep_their_status(client):
    assert client.get("/portfolio/dashboard").status_code == 200
    assert client.get("/portfolio/dashboard/").status_code in (200, 308)
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/api/nope").status_code == 404
    assert client.get("/api/nope").is_json


def test_is_known_page_matches_templates(monkeypatch):
    import dash
    pages = {"m": {"module": "m", "path": "/a/b", "path_template": None},
             "t": {"module": "t", "path": "/asset/none", "path_template": "/asset/<symbol>"}}
    monkeypatch.setattr(dash, "page_registry", pages)
    assert is_known_page("/a/b") and is_known_page("/asset/BTC")
    assert not is_known_page("/asset/BTC/x") and not is_known_page("/a")
    assert is_known_page("/app/a/b", "/app/") and not is_known_page("/a/b", "/app/")
