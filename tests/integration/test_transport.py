"""The refresh on the wire (issue 17) through the Flask test client: the key protocol over
HTTP, compression when the client accepts it, and browser caching of static files."""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest

from app import create_app, setup_before_serving
from components import ids

CALLBACK = "/_dash-update-component"


@pytest.fixture
def client(settings, repo, now):
    app = setup_before_serving(create_app(settings, repo, environ={}, clock=lambda: now))
    return app.server.test_client()


def _refresh_body(client, key, tick: int = 0) -> dict:
    """What the renderer posts on an interval tick (the refresh callback's declared shape)."""
    dep = next(d for d in client.get("/_dash-dependencies").get_json()
               if any(i["id"] == ids.REFRESH_INTERVAL for i in d["inputs"]))
    values = {ids.REFRESH_INTERVAL: tick, ids.SATS_TOGGLE: False, ids.HOLDINGS_VERSION: None,
              ids.CARDS_PAGE: 1, ids.VIEW_KEY: key, ids.REBALANCE_KEY: None,
              ids.REBALANCE_PARAMS: {"target": 50, "mix": False, "method": "min_variance",
                                     "asset_cap": 25, "category_cap": 40}}
    component, prop = dep["output"].rsplit(".", 1)
    return {"output": dep["output"], "outputs": {"id": component, "property": prop},
            "inputs": [{**i, "value": values[i["id"]]} for i in dep["inputs"]],
            "state": [{**s, "value": values[s["id"]]} for s in dep["state"]],
            "changedPropIds": [f"{ids.REFRESH_INTERVAL}.n_intervals"]}


def _post(client, body: dict, encoding: str | None = None):
    headers = {"Accept-Encoding": encoding} if encoding else {}
    return client.post(CALLBACK, data=json.dumps(body), content_type="application/json",
                       headers=headers)


def _live(resp) -> dict:
    return resp.get_json()["response"][ids.LIVE_UPDATE]["data"]


def test_the_tick_sends_a_small_key_and_gets_a_delta(client):
    first = _post(client, _refresh_body(client, None))
    assert first.status_code == 200 and _live(first)["full"] is True
    key = _live(first)["key"]
    body = _refresh_body(client, key, tick=1)
    # The whole request is the callback's declared shape plus a key of ~40 bytes.
    assert len(json.dumps(key)) < 60 and len(json.dumps(body)) < 1024
    second = _post(client, body)
    live = _live(second)
    assert "cards" not in live and live["key"]["sid"] == key["sid"]
    assert len(second.data) < len(first.data) / 5


@pytest.mark.parametrize("encoding", ["gzip", "br", "gzip, deflate, br"])
def test_callback_answers_are_compressed_when_the_client_accepts_it(client, encoding):
    plain = _post(client, _refresh_body(client, None))
    packed = _post(client, _refresh_body(client, None), encoding)
    chosen = packed.headers["Content-Encoding"]
    assert chosen == ("br" if "br" in encoding else "gzip")
    assert "Accept-Encoding" in packed.headers["Vary"]
    raw = brotli.decompress(packed.data) if chosen == "br" else gzip.decompress(packed.data)
    # Same answer (but for the session's fresh key), a fraction of the bytes.
    same = json.loads(raw)["response"][ids.LIVE_UPDATE]["data"]
    assert {**same, "key": None} == {**_live(plain), "key": None}
    assert len(packed.data) < len(plain.data) / 4


def test_without_accept_encoding_answers_are_identity(client):
    for resp in (_post(client, _refresh_body(client, None)), client.get("/api/portfolio"),
                 client.get("/portfolio/dashboard")):
        assert "Content-Encoding" not in resp.headers
    assert client.get("/api/portfolio").get_json()["holdings"]


def test_the_json_api_and_the_page_are_gzipped(client):
    plain = client.get("/api/portfolio")
    packed = client.get("/api/portfolio", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    page = client.get("/portfolio/dashboard", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    layout = client.get("/_dash-layout", headers={"Accept-Encoding": "br"})
    assert layout.headers["Content-Encoding"] == "br"


def _script_urls(client) -> list[str]:
    html = client.get("/portfolio/dashboard").get_data(as_text=True)
    return re.findall(r'src="(/_dash-component-suites/[^"]+)"', html)


def test_fingerprinted_component_suites_are_immutable_and_compressed_once(client):
    urls = _script_urls(client)
    assert urls, "no component suite in the page"
    url = next(u for u in urls if "dash_renderer" in u or "dash-renderer" in u)
    first = client.get(url, headers={"Accept-Encoding": "br"})
    control = first.headers["Cache-Control"]
    assert "max-age=31536000" in control and "immutable" in control
    assert first.headers["Content-Encoding"] == "br"
    plain = client.get(url)
    assert brotli.decompress(first.data) == plain.data
    again = client.get(url, headers={"Accept-Encoding": "br"})
    assert again.data == first.data  # served from the compressed copy


def test_assets_are_cached_by_the_browser(client):
    html = client.get("/portfolio/dashboard").get_data(as_text=True)
    css = re.search(r'href="(/assets/[^"]+\.css\?m=[^"]+)"', html).group(1)
    fingerprinted = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert fingerprinted.status_code == 200
    assert "immutable" in fingerprinted.headers["Cache-Control"]
    assert "max-age=31536000" in fingerprinted.headers["Cache-Control"]
    assert fingerprinted.headers.get("Content-Encoding") == "gzip"
    font = client.get("/assets/fonts/btc-sign.woff2")
    assert font.status_code == 200 and "max-age=3600" in font.headers["Cache-Control"]
    assert "Content-Encoding" not in font.headers  # woff2 is compressed already
