"""Who may reach the server: Host allow-list, same-origin writes, bind guard, login throttle.

Failures of the red-team run: with the default no-login loopback setup a foreign ``Host`` and
``Origin`` could POST and DELETE holdings (DNS rebinding); ``gunicorn -b 0.0.0.0 app:server``
served everything without a login; any password (one space) was accepted and failed logins were
not throttled.
"""

from __future__ import annotations

import base64

import pytest

from app import create_app
from errors import ConfigError
from security import check_bind, check_password_strength

USER, PASSWORD = "alice", "correct-horse-battery"
CREDS = {"BTCFOLIO_AUTH_USER": USER, "BTCFOLIO_AUTH_PASSWORD": PASSWORD}


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def client(settings, repo):
    return create_app(settings, repo, environ={}).server.test_client()


def _holding_writes(client, headers: dict) -> list[int]:
    post = client.post("/api/holdings", json={"symbol": "SLV", "quantity": 3}, headers=headers)
    delete = client.delete("/api/holdings/ETH", headers=headers)
    return [post.status_code, delete.status_code]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io",
                                  "localhost.evil.example", "192.168.1.5.evil.example:8000",
                                  "xn--80ak6aa92e.com", "localhost:8000@evil.example"])
def test_access_foreign_host_is_refused_and_changes_nothing(client, repo, settings, host):
    before = repo.load_holdings(settings.portfolio.name)
    assert client.get("/api/portfolio", headers={"Host": host}).status_code == 400
    assert client.get("/portfolio/dashboard", headers={"Host": host}).status_code == 400
    assert _holding_writes(client, {"Host": host, "Origin": f"http://{host}"}) == [400, 400]
    assert repo.load_holdings(settings.portfolio.name) == before


# An address as Host cannot be rebound (the browser connected to it itself): LAN use works.
@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000",
                                  "LOCALHOST:8000", "192.168.1.5:8000", "[fd00::5]:8000"])
def test_access_loopback_hosts_are_served(client, host):
    assert client.get("/api/portfolio", headers={"Host": host}).status_code == 200


def test_access_allowed_hosts_setting_adds_names(settings, repo):
    server = settings.server.model_copy(update={"allowed_hosts": ("dash.example.org",)})
    app = create_app(settings.model_copy(update={"server": server}), repo, environ={})
    client = app.server.test_client()
    assert client.get("/api/health", headers={"Host": "dash.example.org"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "other.example.org"}).status_code == 400


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"}, {"Origin": "http://localhost:9999"},
    {"Origin": "null"}, {"Referer": "http://evil.example/page"},
    {"Origin": "http://evil.example", "Referer": "http://localhost/portfolio/dashboard"}])
def test_access_cross_origin_writes_are_refused(client, repo, settings, headers):
    before = repo.load_holdings(settings.portfolio.name)
    assert _holding_writes(client, headers) == [403, 403]
    assert repo.load_holdings(settings.portfolio.name) == before
    # A read from the same page is not a state change: still answered.
    assert client.get("/api/portfolio", headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"},
                                     {"Referer": "http://localhost/portfolio/dashboard"}])
def test_access_same_origin_and_non_browser_writes_work(client, repo, settings, headers):
    assert _holding_writes(client, headers) == [201, 200]
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 3.0


def test_access_non_loopback_listener_without_credentials_serves_nothing(client, repo, settings):
    # What `gunicorn -b 0.0.0.0 app:server` looks like to the app: SERVER_NAME is the listener.
    before = repo.load_holdings(settings.portfolio.name)
    public = {"SERVER_NAME": "0.0.0.0", "HTTP_HOST": "127.0.0.1:8000"}
    for path in ("/api/portfolio", "/portfolio/dashboard", "/_dash-layout", "/assets/style.css"):
        assert client.get(path, environ_overrides=public).status_code == 503
    post = client.post("/api/holdings", json={"symbol": "SLV", "quantity": 1}, environ_overrides=public)
    assert post.status_code == 503
    assert repo.load_holdings(settings.portfolio.name) == before
    assert client.get("/api/portfolio").status_code == 200  # the loopback listener still serves


def test_access_non_loopback_listener_with_credentials_asks_for_them(settings, repo):
    client = create_app(settings, repo, environ=CREDS).server.test_client()
    public = {"SERVER_NAME": "0.0.0.0", "HTTP_HOST": "127.0.0.1:8000"}
    assert client.get("/api/health", environ_overrides=public).status_code == 401
    ok = client.get("/api/health", environ_overrides=public, headers=_basic(USER, PASSWORD))
    assert ok.status_code == 200


@pytest.mark.parametrize("password", [" ", "a", "short-pw", "aaaaaaaaaaaaaaaa",
                                      "            ", "abababababababab", "ALICE-alice", "alice"])
def test_access_weak_passwords_are_refused(password):
    with pytest.raises(ConfigError, match="too weak"):
        check_password_strength(USER, password)
    with pytest.raises(ConfigError, match="too weak"):
        check_bind("0.0.0.0", {"BTCFOLIO_AUTH_USER": USER, "BTCFOLIO_AUTH_PASSWORD": password})


def test_access_weak_password_stops_the_app(settings, repo):
    with pytest.raises(ConfigError, match="BTCFOLIO_AUTH_PASSWORD: too weak"):
        create_app(settings, repo, environ={"BTCFOLIO_AUTH_USER": USER,
                                            "BTCFOLIO_AUTH_PASSWORD": " "})


def test_access_failed_logins_are_throttled_per_client(settings, repo):
    client = create_app(settings, repo, environ=CREDS).server.test_client()
    attacker, other = {"REMOTE_ADDR": "10.9.9.9"}, {"REMOTE_ADDR": "10.1.1.1"}
    codes = [client.get("/api/health", headers=_basic(USER, f"guess-{i}"),
                        environ_base=attacker).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    throttled = client.get("/api/health", headers=_basic(USER, PASSWORD), environ_base=attacker)
    assert throttled.status_code == 429  # even the right password waits: no oracle for guesses
    assert int(throttled.headers["Retry-After"]) >= 1
    # Another client is not locked out by the attacker, and a browser's first request (no
    # credentials yet) does not count as a failure.
    for _ in range(15):
        assert client.get("/api/health", environ_base=other).status_code == 401
    assert client.get("/api/health", headers=_basic(USER, PASSWORD),
                      environ_base=other).status_code == 200
