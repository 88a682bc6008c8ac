"""Security: non-loopback binding needs auth; with credentials every route requires them."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import pytest

from app import create_app
from errors import ConfigError
from security import check_bind, is_loopback
from tests.support.sample import ROOT

CREDS = {"BTCFOLIO_AUTH_USER": "alice", "BTCFOLIO_AUTH_PASSWORD": "s3cret-pass-2026"}


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


@pytest.mark.parametrize(("host", "environ"), [
    ("0.0.0.0", {}), ("::", {}), ("", {}), ("192.168.1.5", {}), ("example.org", {}),
    ("0.0.0.0", {"BTCFOLIO_AUTH_USER": "alice"}),  # half-configured auth is no auth
    ("0.0.0.0", {"BTCFOLIO_AUTH_PASSWORD": "s3cret-pass-2026"}),
    ("0.0.0.0", {"BTCFOLIO_AUTH_USER": "", "BTCFOLIO_AUTH_PASSWORD": "s3cret-pass-2026"})])
def test_auth_public_bind_needs_both_credentials(host, environ):
    with pytest.raises(ConfigError, match="refusing to bind"):
        check_bind(host, environ)


@pytest.mark.parametrize(("host", "environ"), [("127.0.0.1", {}), ("::1", {}),
                                               ("0.0.0.0", CREDS), ("192.168.1.5", CREDS)])
def test_auth_bind_allowed_on_loopback_or_with_credentials(host, environ):
    check_bind(host, environ)  # no error


# Sample values for the URL converters of the route map; any rule gets a concrete URL.
SAMPLE_ARGS = {"path": "portfolio/dashboard", "filename": "style.css", "package_name": "dash",
               "fingerprinted_path": "dash_table/bundle.js", "symbol": "ETH",
               "_rest": "nope", "entry_id": "1"}


def _every_route(server) -> list[tuple[str, str]]:
    """(method, URL) for every rule and method of the Flask url_map, Dash's own included."""
    routes = []
    for rule in server.url_map.iter_rules():
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", SAMPLE_ARGS[arg], url)
        routes += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_auth_every_route_of_the_url_map_requires_credentials(settings, repo):
    server = create_app(settings, repo, environ=CREDS).server
    client = server.test_client()
    routes = _every_route(server)
    dash_internal = {url for _, url in routes if url.startswith("/_")}
    assert {"/_dash-layout", "/_dash-dependencies", "/_dash-update-component",
            "/_reload-hash", "/_favicon.ico"} <= dash_internal
    assert any(url.startswith("/_dash-component-suites/") for url in dash_internal)
    assert any(url.startswith("/assets/") for _, url in routes)
    assert any(url.startswith("/api/") for _, url in routes)
    # Each try from its own address: failed logins are throttled per client (tested below).
    addresses = (f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100_000))
    for method, url in routes:
        for headers in ({}, _basic("alice", "wrong"), _basic("mallory", "s3cret-pass-2026"),
                        {"Authorization": "Bearer s3cret-pass"}):
            resp = client.open(url, method=method, headers=headers, json={},
                               environ_base={"REMOTE_ADDR": next(addresses)})
            assert resp.status_code == 401, (method, url, headers)
            assert resp.headers["WWW-Authenticate"].startswith("Basic")
            assert b"s3cret" not in resp.data
        resp = client.open(url, method=method, headers=_basic("alice", "s3cret-pass-2026"), json={})
        assert resp.status_code != 401, (method, url)
    for path in ("/", "/portfolio/dashboard", "/api/portfolio", "/api/health",
                 "/assets/style.css", "/_dash-layout"):  # and with them the app really answers
        assert client.get(path, headers=_basic("alice", "s3cret-pass-2026")).status_code in (200, 302)


def test_auth_not_required_on_loopback_without_credentials(settings, repo):
    client = create_app(settings, repo, environ={}).server.test_client()
    assert client.get("/api/health").status_code == 200
