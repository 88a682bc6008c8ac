"""Keys never leave partly (masking before truncation) and never follow a redirect elsewhere.

Red-team failures: 21 of 33 characters of the CoinGecko key reached /api/health and the log
because an echoed error body was cut to 120 characters before the key was masked; the
CoinMarketCap and CoinGecko key headers were re-sent to a redirect target on another port.
"""

from __future__ import annotations

import json
import logging

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from data.providers.adapters.coingecko import CoinGeckoAdapter
from data.providers.adapters.coinmarketcap import CoinMarketCapAdapter
from data.store.repository import Repository
from errors import BadResponseError, ProviderError
from redaction import clip, register_secret
from tests.support.adapters import source
from tests.support.sample import NOW

KEY = "CG-q7Zx9Kk2Wv4Hj8Tn3Bd6Yp1Lm5Rs0Q"  # 33 characters, like a CoinGecko demo key
CMC_KEY = "cmc-redirectLEAKcanary-5d2b7f3a9c1e"


def _pieces(key: str, size: int = 7) -> set[str]:
    return {key[i:i + size] for i in range(len(key) - size + 1)}


def _leaked(text: str, key: str) -> list[str]:
    return sorted(p for p in _pieces(key) if p in text)


@pytest.mark.parametrize("offset", [90, 99, 105, 119])
def test_clip_masks_before_cutting(offset):
    register_secret(KEY)
    text = "x" * offset + KEY + " trailing"
    assert _leaked(clip(text, 120), KEY) == []


def _echo_key_at(offset: int, *, as_json: bool):
    """An error body that echoes the key header starting at ``offset`` of the vendor message."""
    def handler(request: Request) -> Response:
        seen = request.headers.get("x-cg-demo-api-key", "")
        message = "e" * offset + seen + " was rejected"
        if as_json:
            body = json.dumps({"status": {"error_code": 10002, "error_message": message}})
            return Response(body, 401, content_type="application/json")
        return Response(message, 500, content_type="text/plain")
    return handler


@pytest.mark.parametrize("as_json", [False, True], ids=["text-500", "json-401"])
@pytest.mark.parametrize("offset", [99, 110])
def test_partial_key_never_reaches_message_store_or_log(httpserver, tmp_path, caplog,
                                                         offset, as_json):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request("/api/v3/simple/price").respond_with_handler(
        _echo_key_at(offset, as_json=as_json))
    adapter = CoinGeckoAdapter(source(httpserver, plan="demo"), api_key=KEY,
                               ids={"BTC": "bitcoin"})
    with pytest.raises(ProviderError) as info:
        adapter.fetch_quotes(["BTC"])
    message = str(info.value)
    assert "eeee" in message  # the vendor text is there, only the key is not
    assert _leaked(message, KEY) == []
    repo = Repository.from_url(f"sqlite:///{tmp_path / 's.db'}")
    repo.record_source_status("coingecko", ok=False, now=NOW, error=message)
    stored = json.dumps(repo.load_source_health())
    logging.getLogger("btcfolio.test").error("provider failed: %s", message)
    assert _leaked(stored, KEY) == []
    assert _leaked(caplog.text, KEY) == []


@pytest.fixture
def other_origin():
    """A second local server on another port: the redirect target."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def _received_keys(server: HTTPServer) -> list[str]:
    return [value for request, _ in server.log for name, value in request.headers.items()
            if "key" in name.lower()]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_key_headers_do_not_follow_a_redirect_to_another_origin(httpserver, other_origin,
                                                                status):
    target = other_origin.url_for("/stolen")
    other_origin.expect_request("/stolen").respond_with_json({"bitcoin": {"usd": 1.0}})
    httpserver.expect_request("/api/v3/simple/price").respond_with_data(
        "", status, headers={"Location": target})
    httpserver.expect_request("/v2/cryptocurrency/quotes/latest").respond_with_data(
        "", status, headers={"Location": target})
    coingecko = CoinGeckoAdapter(source(httpserver, plan="demo"), api_key=KEY,
                                 ids={"BTC": "bitcoin"})
    cmc = CoinMarketCapAdapter(source(httpserver), api_key=CMC_KEY, ids={"BTC": "1"})
    for adapter in (coingecko, cmc):
        with pytest.raises(BadResponseError, match="redirected to another origin"):
            adapter.fetch_quotes(["BTC"])
    # Not one request reaches the other origin (werkzeug's server drops header names with
    # underscores, so CoinMarketCap's X-CMC_PRO_API_KEY could not even be seen there).
    assert len(other_origin.log) == 0
    assert _received_keys(other_origin) == []


def test_same_origin_redirect_is_still_followed_with_the_key(httpserver):
    httpserver.expect_request("/api/v3/simple/price").respond_with_data(
        "", 302, headers={"Location": "/api/v3/moved"})
    httpserver.expect_request("/api/v3/moved").respond_with_json(
        {"bitcoin": {"usd": 65000.0, "usd_24h_change": 1.5, "last_updated_at": 1723550000}})
    coingecko = CoinGeckoAdapter(source(httpserver, plan="demo"), api_key=KEY,
                                 ids={"BTC": "bitcoin"})
    (quote,) = coingecko.fetch_quotes(["BTC"])
    assert quote.symbol == "BTC" and quote.price_usd == 65000.0
    moved = [r for r, _ in httpserver.log if r.path == "/api/v3/moved"]
    assert moved and moved[0].headers.get("x-cg-demo-api-key") == KEY


def test_redirect_loop_is_a_typed_error(httpserver):
    httpserver.expect_request("/v2/cryptocurrency/quotes/latest").respond_with_data(
        "", 302, headers={"Location": "/v2/cryptocurrency/quotes/latest"})
    cmc = CoinMarketCapAdapter(source(httpserver), api_key=CMC_KEY, ids={"BTC": "1"})
    with pytest.raises(BadResponseError, match="redirects"):
        cmc.fetch_quotes(["BTC"])
