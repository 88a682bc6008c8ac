"""Bad input at every entry point: nothing is stored, the answer is a clear 4xx or form message.

Entry points: the dashboard's callbacks driven through the real ``POST /_dash-update-component``,
``POST /api/holdings``, ``DELETE /api/holdings/<symbol>``, ``POST /api/assets``,
``DELETE /api/assets/<symbol>``, the query string of every /api route
(enumerated from the Flask url_map, so a new route without cases here fails) and config.yaml.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys

import pytest
import yaml

import app as app_module
from app import create_app
from data.store.backfills import pending_backfills
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from data.store.universe import effective_universe
from settings import load_settings
from tests.support.dash import dash_callback
from tests.support.sample import NOW, ROOT, SAMPLE

HOSTILE_TEXT = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "=cmd|' /C calc'!A0",
    "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "' OR 1=1 --", "../../etc/passwd",
    "DOGE", "ＥＴＨ", "\u0000", "A" * 1000,
]
# Quantities a JSON body or a forged callback can carry (NaN/inf are sent as raw tokens below).
BAD_QUANTITIES = [-1, 0, -0.0, 1e-320, 1e13, 10**400, "10", "1e3", True, None, [], {}, [1],
                  {"value": 1}, "<script>alert(1)</script>", "=1+1"]
NON_FINITE = [math.nan, math.inf, -math.inf]
LEAK_MARKERS = ("Traceback", 'File "', "site-packages", str(ROOT), "sqlalchemy", "Exception on")
# Every provider at a port nothing listens on: adding a custom asset is checked "offline".
OFFLINE = {f"BTCFOLIO__SOURCES__{s}__BASE_URL": "http://127.0.0.1:9"
           for s in ("COINGECKO", "YAHOO", "COINMARKETCAP", "ALPHAVANTAGE")}
PEPE = {"symbol": "PEPE", "kind": "crypto", "category": "high_vol_crypto",
        "symbols": {"coingecko": "pepe"}}


def _seeded_app(folder):
    """Settings, a seeded store in ``folder`` and a test client of an app on it."""
    settings = load_settings(ROOT / "config.yaml", {
        "BTCFOLIO__STORE__URL": f"sqlite:///{folder / 'store.db'}",
        "BTCFOLIO__CACHE__DIR": str(folder / "cache"), **OFFLINE})
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
    app = create_app(settings, repo, environ={}, clock=lambda: NOW)
    return settings, repo, app.server.test_client()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One seeded store and app for every refusal (each test checks that nothing changed)."""
    return _seeded_app(tmp_path_factory.mktemp("bad_input"))


@pytest.fixture
def client(shared):
    return shared[2]


@pytest.fixture
def repo(shared):
    return shared[1]


@pytest.fixture
def settings(shared):
    return shared[0]


@pytest.fixture
def fresh(tmp_path):
    """A store and app of its own, for the cases that do change the store."""
    return _seeded_app(tmp_path)


def store_state(repo, settings) -> tuple:
    """Everything a bad input could change: ledger, holdings, prices, quotes, backfill requests,
    the custom assets (and their version)."""
    from data.store.ledger_store import load_entries

    latest = repo.load_latest_prices().sort_values(["symbol", "kind"]).to_json(date_format="iso")
    universe = effective_universe(settings, repo, max_age=0)
    return (repo.load_holdings(settings.portfolio.name), repo.count_prices(), latest,
            repo.load_quotes().to_json(date_format="iso"), pending_backfills(repo),
            {s: universe[s] for s in universe.custom}, repo.get_meta("custom_assets_version"),
            load_entries(repo, settings.portfolio.name))


def assert_clean(resp) -> None:
    """No traceback or internal detail in the body; JSON responses carry an "error" string."""
    text = resp.get_data(as_text=True)
    for marker in LEAK_MARKERS:
        assert marker not in text, f"{marker!r} in {text[:200]!r}"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


def assert_json_error(resp, status: int) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"]
    assert_clean(resp)


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """No request may end in an unhandled exception (Flask logs "Exception on ...")."""
    caplog.set_level(logging.ERROR)
    yield
    crashed = [r for r in caplog.records if r.exc_info or "Exception on" in r.getMessage()]
    assert not crashed, crashed[0].getMessage()


# --- the dashboard form (update_add_asset) through POST /_dash-update-component -------------

def _add(client, symbol, quantity):
    return dash_callback(client, "add-asset-button",
                         inputs={("add-asset-button", "n_clicks"): 1},
                         state={("asset-dropdown", "value"): symbol,
                                ("asset-quantity", "value"): quantity})


def test_bad_input_form_accepts_a_valid_holding(fresh):
    settings, repo, client = fresh
    # The harness drives the real callback: a valid entry is stored (so refusals below mean it).
    resp = _add(client, "SLV", 7)
    assert resp.status_code == 200
    # "+ Add" adds to the position (SLV is not held: 0 -> 7).
    assert resp.get_json()["response"]["asset-form-status"]["children"].startswith("SLV 0 → 7")
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 7.0


@pytest.mark.parametrize("symbol", [*HOSTILE_TEXT, None, "", 5, ["SLV"], {"a": 1}, True])
def test_bad_input_form_symbol_shows_a_message_and_stores_nothing(client, repo, settings, symbol):
    before = store_state(repo, settings)
    resp = _add(client, symbol, 1)
    assert resp.status_code == 200
    out = resp.get_json()["response"]
    assert out["asset-form-error"]["children"]  # a message under the form
    assert "dashboard-holdings-version" not in out  # no refresh: nothing changed
    assert_clean(resp)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("quantity", [*BAD_QUANTITIES, *NON_FINITE])
def test_bad_input_form_quantity_shows_a_message_and_stores_nothing(client, repo, settings,
                                                                   quantity):
    before = store_state(repo, settings)
    resp = _add(client, "SLV", quantity)
    assert resp.status_code == 200
    out = resp.get_json()["response"]
    assert out["asset-form-error"]["children"]
    assert out["asset-quantity"]["invalid"] is True
    assert "dashboard-holdings-version" not in out
    assert_clean(resp)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("symbol", ["DOGE", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", 5])
def test_bad_input_forged_remove_click_changes_nothing(client, repo, settings, symbol):
    before = store_state(repo, settings)
    pattern = {"symbol": symbol, "type": "remove-asset"}
    resp = dash_callback(client, '{"symbol":["ALL"],"type":"remove-asset"}',
                         inputs={(json.dumps(pattern), "n_clicks"): [1]})
    assert resp.status_code in (200, 204)
    assert_clean(resp)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize(("input_id", "value"), [
    ("correlation-lookback", "abc"), ("correlation-lookback", 10**9),
    ("correlation-lookback", -5), ("correlation-lookback", [90]),
    ("dashboard-rebalance-target", "50"), ("dashboard-rebalance-target", math.nan),
    ("dashboard-rebalance-target", {"x": 1}), ("dashboard-rebalance-target", 1e308),
])
def test_bad_input_forged_panel_values_are_answered_not_crashed(client, repo, settings,
                                                               input_id, value):
    before = store_state(repo, settings)
    resp = dash_callback(client, input_id, inputs={(input_id, "value"): value})
    assert resp.status_code == 200
    assert_clean(resp)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize(("raw", "status"), [
    (b"{not json", 400), (b"[1, 2]", 400), (b'"x"', 400), (b"null", 400),
    (b'{"output": 5}', 400), (b'{"output": "a.b", "inputs": "x"}', 400),
    (b'{"output": "a.b", "inputs": [], "state": {}}', 400),
    (b'{"output": "a.b", "outputs": "a.b", "inputs": []}', 400),
    (b'{"output": "a.b", "inputs": [], "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}', 413),
])
def test_bad_input_malformed_callback_request_is_4xx(client, repo, settings, raw, status):
    before = store_state(repo, settings)
    resp = client.post("/_dash-update-component", data=raw, content_type="application/json")
    assert resp.status_code == status
    assert_clean(resp)
    assert store_state(repo, settings) == before


# --- POST /api/holdings ----------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    *({"symbol": text, "quantity": 1} for text in HOSTILE_TEXT),
    *({"symbol": "SLV", "quantity": q} for q in BAD_QUANTITIES),
    {"symbol": None, "quantity": 1}, {"symbol": ["SLV"], "quantity": 1},
    {"symbol": {"$ne": ""}, "quantity": 1}, {"quantity": 1}, {"symbol": "SLV"}, {},
    {"symbol": "SLV", "quantity": 1, "portfolio": "other"}, None, [], ["SLV", 1], "SLV", 1,
    {"holding": {"symbol": "SLV", "quantity": 1}},
])
def test_bad_input_api_post_json_is_400(client, repo, settings, body):
    before = store_state(repo, settings)
    resp = client.post("/api/holdings", data=json.dumps(body), content_type="application/json")
    assert_json_error(resp, 400)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("raw", [
    *(json.dumps({"symbol": "SLV", "quantity": q}).encode() for q in NON_FINITE),
    b'{"symbol": "SLV", "quantity": 1e999}', b"{not json", b"", b"\xff\xfe\x00",
    b'{"symbol": "SLV", "quantity": 1,}', b"[" * 2000 + b"]" * 2000,
    b'{"symbol": "DOGE", "symbol": "SLV", "quantity": 1}',
    b'{"symbol": "SLV", "quantity": 1}{"symbol": "ETH", "quantity": 2}',
])
def test_bad_input_api_post_invalid_json_is_400(client, repo, settings, raw):
    before = store_state(repo, settings)
    resp = client.post("/api/holdings", data=raw, content_type="application/json")
    assert_json_error(resp, 400)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "text/html", "application/json-patch+json", "application/xml"])
def test_bad_input_api_post_wrong_content_type_is_415(client, repo, settings, content_type):
    before = store_state(repo, settings)
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post("/api/holdings", data=b'{"symbol": "SLV", "quantity": 1}', headers=headers)
    assert_json_error(resp, 415)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("size", [4097, 64 * 1024, 3 * 1024 * 1024])
def test_bad_input_api_post_oversized_body_is_413(client, repo, settings, size):
    before = store_state(repo, settings)
    head = b'{"symbol": "SLV", "quantity": 1, "pad": "'
    raw = head + b"x" * (size - len(head) - 2) + b'"}'
    resp = client.post("/api/holdings", data=raw, content_type="application/json")
    assert_json_error(resp, 413)
    assert store_state(repo, settings) == before


def test_bad_input_api_post_oversized_body_without_length_is_413(client, repo, settings):
    # A chunked upload announces no Content-Length: the read itself must stop.
    import io
    before = store_state(repo, settings)
    stream = io.BytesIO(b'{"symbol": "SLV", "quantity": 1, "pad": "' + b"x" * 10_000 + b'"}')
    resp = client.post("/api/holdings", input_stream=stream, content_type="application/json",
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert_json_error(resp, 413)
    assert store_state(repo, settings) == before


# --- DELETE /api/holdings/<symbol> -----------------------------------------------------------

@pytest.mark.parametrize("symbol", [
    "DOGE", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "=cmd%7C'%20%2FC%20calc'!A0", "%2B1", "-1",
    "@SUM(A1)", "%09ETH", "ETH%00", "ETH'%20OR%20'1'='1", "%EF%BC%A5%EF%BC%B4%EF%BC%A8",
    "A" * 3000, "MATIC"])  # MATIC: a configured asset that is not held
def test_bad_input_api_delete_unknown_symbol_is_404(client, repo, settings, symbol):
    before = store_state(repo, settings)
    resp = client.delete(f"/api/holdings/{symbol}")
    assert_json_error(resp, 404)
    assert len(resp.get_json()["error"]) < 200  # the echo of a hostile symbol is bounded
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("path", ["/api/holdings/", "/api/holdings/ETH/extra",
                                  "/api/holdings/..%2Fhealth"])
def test_bad_input_api_delete_malformed_path_is_4xx(client, repo, settings, path):
    before = store_state(repo, settings)
    resp = client.delete(path)
    assert 400 <= resp.status_code < 500
    assert resp.mimetype == "application/json"
    assert_clean(resp)
    assert store_state(repo, settings) == before


def test_bad_input_api_wrong_method_is_405_json(client, repo, settings):
    before = store_state(repo, settings)
    for method, path in [("PUT", "/api/holdings"), ("GET", "/api/holdings"),
                         ("POST", "/api/portfolio"), ("DELETE", "/api/health")]:
        resp = client.open(path, method=method, json={"symbol": "SLV", "quantity": 1})
        assert_json_error(resp, 405)
    assert store_state(repo, settings) == before


# --- the query string of every /api route ----------------------------------------------------

# Declared query parameters per route (rule, method): a new route or parameter needs a row.
API_ROUTES = {
    ("/api/portfolio", "GET"): set(),
    ("/api/portfolio/history", "GET"): {"days", "interval"},
    ("/api/correlation", "GET"): {"assets", "lookback_days"},
    ("/api/rebalance", "GET"): {"target_btc_pct", "band", "fee_bps", "min_trade_btc",
                                 "min_trade_usd", "include_stale"},
    ("/api/health", "GET"): set(),
    ("/api/holdings", "POST"): set(),
    ("/api/holdings/<symbol>", "DELETE"): set(),
    ("/api/assets", "GET"): set(),
    ("/api/assets", "POST"): set(),
    ("/api/assets/<symbol>", "DELETE"): set(),
    ("/api/transactions", "GET"): set(),
    ("/api/transactions", "POST"): set(),
    ("/api/transactions/<entry_id>", "DELETE"): set(),
    ("/api/transactions/import", "POST"): {"dry_run", "timezone"},
    ("/api/transactions/export", "GET"): {"format"},
    ("/api/performance", "GET"): {"start", "end"},
    ("/api/diversification", "GET"): {"lookback_days", "threshold"},
    ("/api/optimize", "GET"): {"target_btc_pct", "lookback_days", "method", "max_per_asset",
                               "max_per_category", "universe", "fee_bps", "min_trade_btc",
                               "min_trade_usd", "include_stale"},
    ("/api/backtest", "GET"): {"strategy", "rebalance", "years", "fee_bps", "target_btc_pct"},
    ("/api/correlation/rolling", "GET"): {"window_days", "days"},
}
# The body a route is called with (POST /api/holdings's for any other POST not listed).
REFERENCE_BODIES = {
    "/api/transactions": {"json": {"date": "2024-01-02", "type": "DEPOSIT", "asset": "ETH",
                                   "quantity": "1"}},
    "/api/transactions/import": {"data": "date,type,asset,quantity\n2024-01-02,DEPOSIT,ETH,1\n",
                                 "content_type": "text/csv"},
}
# A valid body per POST route: the reference answer of "works without a query".
VALID_BODY = {"/api/holdings": {"symbol": "SLV", "quantity": 1}, "/api/assets": PEPE}
CATCH_ALL = "/api/<path:_rest>"
# Every value below is invalid for every declared parameter (numbers in range, symbols known).
BAD_VALUES = ["", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "NaN", "inf", "-inf",
              "-1", "1e400", "9" * 400, "1_0", "0x10", "DOGE", "BTC,BTC", " ", "\x00",
              "[1]", '{"a":1}']


def _api_rules(client):
    server = client.application
    return {(rule.rule, method): server.view_functions[rule.endpoint]
            for rule in server.url_map.iter_rules()
            if rule.rule.startswith("/api/") and rule.rule != CATCH_ALL
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def _url(rule: str) -> str:
    # ETH is held and entry 1 (an opening balance) exists: a 400 must also leave them stored.
    return rule.replace("<symbol>", "ETH").replace("<entry_id>", "1")


def _body_kwargs(rule: str, method: str) -> dict:
    if method != "POST":
        return {}
    return REFERENCE_BODIES.get(rule, {"json": VALID_BODY.get(rule, {"symbol": "SLV",
                                                                     "quantity": 1})})


def test_bad_input_every_api_route_has_query_cases(client):
    rules = _api_rules(client)
    assert set(rules) == set(API_ROUTES), "a new /api route needs its rows in API_ROUTES"
    for key, view in rules.items():
        assert getattr(view, "query_params", frozenset()) == API_ROUTES[key], key


def _query_cases():
    for (rule, method), params in API_ROUTES.items():
        for query in ({"x": "1"}, {"<script>alert(1)</script>": "1"}, {"=cmd|'/C calc'!A0": "1"},
                      {"": "1"}, {"days" if "days" not in params else "nope": "1"}):
            yield pytest.param(rule, method, query, id=f"{method} {rule} {next(iter(query))[:12]}")
        for param in sorted(params):
            for value in BAD_VALUES:
                yield pytest.param(rule, method, {param: value},
                                   id=f"{method} {rule} {param}={value[:12]!r}")
            yield pytest.param(rule, method, [(param, "1"), (param, "1")],
                               id=f"{method} {rule} {param} twice")


@pytest.mark.parametrize(("rule", "method", "query"), list(_query_cases()))
def test_bad_input_api_query_is_400(client, repo, settings, rule, method, query):
    before = store_state(repo, settings)
    resp = client.open(_url(rule), method=method, query_string=query,
                       **_body_kwargs(rule, method))
    assert_json_error(resp, 400)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize(("rule", "method"), list(API_ROUTES))
def test_bad_input_api_route_works_without_a_query(fresh, rule, method):
    client = fresh[2]
    # The reference answer: the 400s above come from the query, not from a broken route.
    url = _url(rule)
    if rule == "/api/assets/<symbol>":  # only a custom asset can be deleted
        assert client.post("/api/assets", json=PEPE).status_code == 201
        url = "/api/assets/PEPE"
    resp = client.open(url, method=method, **_body_kwargs(rule, method))
    assert resp.status_code < 300, resp.get_data(as_text=True)[:300]


def test_bad_input_unknown_api_path_is_404_json(client):
    assert_json_error(client.get("/api/<script>?x=1"), 404)


# --- config.yaml -----------------------------------------------------------------------------

def _config(tmp_path, mutate):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    mutate(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _set(section, key, value):
    return lambda raw: raw[section].__setitem__(key, value)


BAD_CONFIG = {
    "interval negative": _set("refresh", "interval_seconds", -5),
    "interval zero": _set("refresh", "interval_seconds", 0),
    "interval nan": _set("refresh", "interval_seconds", math.nan),
    "interval inf": _set("refresh", "interval_seconds", math.inf),
    "interval huge": _set("refresh", "interval_seconds", 10**30),
    "interval html": _set("refresh", "interval_seconds", "<script>alert(1)</script>"),
    "interval list": _set("refresh", "interval_seconds", [30]),
    "port text": _set("server", "port", "http"),
    "port out of range": _set("server", "port", 70000),
    "port negative": _set("server", "port", -1),
    "host public without auth": _set("server", "host", "0.0.0.0"),
    "host html": _set("server", "host", "<script>"),
    "staleness negative": _set("staleness", "crypto_quote_seconds", -1),
    "staleness nan": _set("staleness", "equity_daily_days", math.nan),
    "holding nan": lambda r: r["portfolio"]["holdings"].update(BTC=math.nan),
    "holding inf": lambda r: r["portfolio"]["holdings"].update(BTC=math.inf),
    "holding huge": lambda r: r["portfolio"]["holdings"].update(BTC=1e300),
    "holding formula": lambda r: r["portfolio"]["holdings"].update(BTC="=1+1"),
    "holding unknown html": lambda r: r["portfolio"]["holdings"].update({"<script>": 1}),
    "asset is a list": lambda r: r["assets"].__setitem__("BTC", ["crypto"]),
    "assets null": lambda r: r.__setitem__("assets", None),
    "section is text": lambda r: r.__setitem__("refresh", "often"),
    "source url javascript": lambda r: r["sources"]["coingecko"].update(
        base_url="javascript:alert(1)"),
    "source url file": lambda r: r["sources"]["yahoo"].update(base_url="file:///etc/passwd"),
    "retry attempts negative": _set("ingest", "retry_attempts", -3),
    "unknown section": lambda r: r.__setitem__("plugins", {"x": 1}),
}


@pytest.mark.parametrize("mutate", list(BAD_CONFIG.values()), ids=list(BAD_CONFIG))
def test_bad_input_config_value_exits_2_with_one_line(tmp_path, monkeypatch, capsys, mutate):
    # In-process main(): an unexpected exception would escape here (= a traceback on the CLI).
    monkeypatch.delenv("BTCFOLIO_AUTH_USER", raising=False)
    monkeypatch.setattr(app_module, "create_app", lambda *a, **k: pytest.fail("config accepted"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert app_module.main(["--config", str(_config(tmp_path, mutate))]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: "), lines


@pytest.mark.parametrize("content", [
    b"", b"- just\n- a list\n", b"\x00\xff\xfe garbage", b"refresh: [unclosed\n",
    b"a: &a [*a]\n", b"!!python/object:os.system {}\n"])
def test_bad_input_config_file_exits_2_with_one_line(tmp_path, monkeypatch, capsys, content):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    monkeypatch.setattr(app_module, "create_app", lambda *a, **k: pytest.fail("config accepted"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert app_module.main(["--config", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: "), lines


def test_bad_input_config_missing_file_exits_2_in_a_subprocess(tmp_path):
    # The real CLI once, end to end: exit status 2, one line, no traceback.
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config",
                           str(tmp_path / "nope.yaml")], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


# --- POST /api/assets and DELETE /api/assets/<symbol> ---------------------------------------

@pytest.mark.parametrize("body", [
    *({**PEPE, "symbol": text} for text in HOSTILE_TEXT if text != "DOGE"),
    *({**PEPE, "name": text} for text in ("\u0000", "A" * 1000, "Pe\npe", "=1\r=2")),
    # "DOGE" and "ＥＴＨ" are well-formed ids (the latter after NFKC): checked, not refused.
    *({**PEPE, "symbols": {"coingecko": text}} for text in HOSTILE_TEXT[:-4] + HOSTILE_TEXT[-2:]),
    *({**PEPE, "symbols": {"yahoo": text}} for text in HOSTILE_TEXT[:-4] + HOSTILE_TEXT[-2:]),
    {**PEPE, "symbol": "BTC"}, {**PEPE, "symbol": "btc"}, {**PEPE, "symbol": "ＢＴＣ"},
    {**PEPE, "symbol": "ДОГЕ"}, {**PEPE, "symbol": "A" * 17}, {**PEPE, "kind": "bond"},
    {**PEPE, "kind": 1}, {**PEPE, "category": "memecoins"}, {**PEPE, "category": ["stocks"]},
    {**PEPE, "symbols": {}}, {**PEPE, "symbols": None}, {**PEPE, "symbols": "pepe"},
    {**PEPE, "symbols": {"binance": "PEPEUSDT"}}, {**PEPE, "symbols": {"coinmarketcap": "x"}},
    {**PEPE, "symbols": {"coingecko": ["pepe"]}}, {**PEPE, "sources": ["yahoo"]},
    {**PEPE, "admin": True}, {k: v for k, v in PEPE.items() if k != "symbol"},
    {k: v for k, v in PEPE.items() if k != "kind"},  # offline: nobody can say what it is
    None, [], "PEPE", 1, {},
])
def test_bad_input_api_post_asset_is_400_and_stores_nothing(client, repo, settings, body):
    before = store_state(repo, settings)
    resp = client.post("/api/assets", data=json.dumps(body), content_type="application/json")
    assert_json_error(resp, 400)
    assert len(resp.get_json()["error"]) < 300  # the echo of hostile text is bounded
    assert store_state(repo, settings) == before


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"symbol": "PEPE", "symbol": "X"}',
                                 b"[" * 2000 + b"]" * 2000, b'{"symbol": NaN}'])
def test_bad_input_api_post_asset_invalid_json_is_400(client, repo, settings, raw):
    before = store_state(repo, settings)
    resp = client.post("/api/assets", data=raw, content_type="application/json")
    assert_json_error(resp, 400)
    assert store_state(repo, settings) == before


def test_bad_input_api_post_asset_wrong_type_or_size(client, repo, settings):
    before = store_state(repo, settings)
    assert_json_error(client.post("/api/assets", data=json.dumps(PEPE),
                                  content_type="text/plain"), 415)
    big = json.dumps({**PEPE, "name": "x" * 10_000})
    assert_json_error(client.post("/api/assets", data=big, content_type="application/json"), 413)
    assert store_state(repo, settings) == before


@pytest.mark.parametrize(("symbol", "status"), [
    ("%3Cscript%3E", 400), ("=cmd%7C'%20%2FC%20calc'!A0", 404), ("%09ETH", 409),
    ("ETH%00", 400), ("A" * 3000, 400), ("%D0%94%D0%9E%D0%93%D0%95", 400),
    ("DOGE", 404), ("ETH", 409), ("%EF%BC%A5%EF%BC%B4%EF%BC%A8", 409), ("btc", 409)])
def test_bad_input_api_delete_asset_refused(client, repo, settings, symbol, status):
    before = store_state(repo, settings)
    resp = client.delete(f"/api/assets/{symbol}")
    assert_json_error(resp, status)
    assert len(resp.get_json()["error"]) < 300
    assert store_state(repo, settings) == before


def test_bad_input_api_delete_held_custom_asset_is_409(fresh):
    settings, repo, client = fresh
    assert client.post("/api/assets", json=PEPE).status_code == 201
    assert client.post("/api/holdings", json={"symbol": "PEPE", "quantity": 1e6}
                       ).status_code == 201
    before = store_state(repo, settings)
    assert_json_error(client.delete("/api/assets/PEPE"), 409)
    assert store_state(repo, settings) == before


def _add_custom(client, symbol, coingecko="pepe", kind="crypto"):
    return dash_callback(client, "custom-asset-add",
                         inputs={("custom-asset-add", "n_clicks"): 1},
                         state={("custom-asset-symbol", "value"): symbol,
                                ("custom-asset-coingecko", "value"): coingecko,
                                ("custom-asset-kind", "value"): kind})


@pytest.mark.parametrize(("symbol", "coingecko", "kind"), [
    *((text, "pepe", "crypto") for text in HOSTILE_TEXT if text != "DOGE"),
    ("PEPE", "<script>", "crypto"), ("PEPE", None, "crypto"), ("PEPE", "pepe", "bond"),
    ("PEPE", "pepe", None), ("ETH", "ethereum", "crypto"), (None, "pepe", "crypto"),
    (["PEPE"], "pepe", "crypto"), ("PEPE", {"a": 1}, "crypto"),
])
def test_bad_input_custom_asset_form_shows_a_message_and_stores_nothing(
        client, repo, settings, symbol, coingecko, kind):
    before = store_state(repo, settings)
    resp = _add_custom(client, symbol, coingecko, kind)
    assert resp.status_code == 200
    out = resp.get_json()["response"]
    assert out["custom-asset-error"]["children"]
    assert "asset-dropdown" not in out  # the dropdown is not touched
    assert_clean(resp)
    assert store_state(repo, settings) == before


def test_bad_input_custom_asset_form_accepts_a_valid_asset(fresh):
    settings, repo, client = fresh
    # The reference answer: offline, a well-formed asset is saved as "no data yet".
    out = _add_custom(client, "pepe").get_json()["response"]
    assert out["asset-dropdown"]["value"] == "PEPE"
    assert "providers not reachable" in out["custom-asset-status"]["children"]
    assert "PEPE" in effective_universe(settings, repo)
