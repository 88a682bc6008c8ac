"""Security: non-loopback binding needs auth; with credentials every route requires them."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from app import create_app, is_loopback
from tests.conftest import ROOT

CREDS = {"BTCFOLIO_AUTH_USER": "alice", "BTCFOLIO_AUTH_PASSWORD": "s3cret-pass"}


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.org", False)])
def test_auth_loopback_detection(host, expected):
    assert is_loopback(host) is expected


def test_auth_public_bind_without_credentials_refuses_to_start(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    assert proc.returncode == 2
    assert "refusing to bind 0.0.0.0" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("path", ["/", "/portfolio/dashboard", "/api/portfolio", "/api/health",
                                  "/assets/style.css", "/_dash-layout"])
def test_auth_every_route_requires_credentials(settings, repo, path):
    client = create_app(settings, repo, environ=CREDS).server.test_client()
    assert client.get(path).status_code == 401
    assert client.get(path, headers=_basic("alice", "wrong")).status_code == 401
    assert client.get(path, headers=_basic("alice", "s3cret-pass")).status_code in (200, 302)


def test_auth_not_required_on_loopback_without_credentials(settings, repo):
    client = create_app(settings, repo, environ={}).server.test_client()
    assert client.get("/api/health").status_code == 200
