"""Secrets never leak (logs, pages, API, CSV export, error messages); the CSV export is inert.

Providers fail against a local server that echoes each request (URL with the key in its query
string, headers with the key) in 401/500/HTTP-200 error bodies; ingest (in process and as a
subprocess) and the app then run on that store, and every output is searched for the keys.
Authentication of every route is in test_auth.py.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import socket
import subprocess
import sys
from datetime import datetime, timezone
from urllib.parse import quote

import pandas as pd
import pytest
from werkzeug import Request, Response

from analytics.portfolio_value import value_portfolio
from app import create_app
from data.ingest import pipeline as ingest
from data.providers.adapters.alphavantage import AlphaVantageAdapter
from data.store.repository import Repository
from errors import TransientError
from queries.export import CSV_COLUMNS, escape_cell, holdings_csv
from settings import load_settings
from tests.support.adapters import source
from tests.support.dash import dash_callback
from tests.support.sample import NOW, ROOT

KEYS = {"COINGECKO_API_KEY": "cgLEAKcanary-7f3a9c1e5d2b",
        "CMC_API_KEY": "cmcLEAKcanary-2b8e6d4f0a91",
        "ALPHAVANTAGE_API_KEY": "avLEAKcanary-9c1d3e5f7b33"}
SOURCES = ("COINGECKO", "COINMARKETCAP", "ALPHAVANTAGE", "YAHOO")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _leaks(text: str) -> list[str]:
    forms = {f for key in KEYS.values() for f in (key, quote(key, safe=""), key[:16])}
    return sorted(f for f in forms if f in text)


def _echo(request: Request) -> Response:
    """Error bodies that repeat the request: URL (key in the query) and headers (key there)."""
    seen = f"{request.method} {request.url} headers={dict(request.headers)}"
    if request.path.startswith("/api/v3/"):  # CoinGecko: 401 with its error object
        return Response(json.dumps({"status": {"error_code": 10002, "error_message": seen}}),
                        401, content_type="application/json")
    if request.path.startswith(("/v1/", "/v2/")):  # CoinMarketCap: 500 with plain text
        return Response(f"internal error while serving {seen}", 500)
    if request.path == "/query":  # Alpha Vantage: an HTTP-200 error body, as it really does
        field = "Information" if request.args.get("function") == "GLOBAL_QUOTE" else "Error Message"
        return Response(json.dumps({field: f"Invalid API call: {seen}"}), 200,
                        content_type="application/json")
    return Response(json.dumps({"chart": {"error": {"code": "Oops", "description": seen}}}), 500,
                    content_type="application/json")


@pytest.fixture
def leak_env(httpserver, tmp_path, monkeypatch):
    """Environment of a deployment whose providers all answer with echoing error bodies."""
    import re
    httpserver.expect_request(re.compile(".*")).respond_with_handler(_echo)
    env = {**KEYS, "PATH": "/usr/bin:/bin",
           "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"),
           "BTCFOLIO__INGEST__RETRY_ATTEMPTS": "2", "BTCFOLIO__INGEST__RETRY_MAX_SECONDS": "1",
           "BTCFOLIO__INGEST__BACKOFF_INITIAL_SECONDS": "0.01",
           "BTCFOLIO__INGEST__BACKOFF_MAX_SECONDS": "0.01"}
    base = httpserver.url_for("/").rstrip("/")
    env.update({f"BTCFOLIO__SOURCES__{name}__BASE_URL": base for name in SOURCES})
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    return env


def test_security_keys_reach_the_provider_but_no_log_or_message(leak_env, httpserver, caplog,
                                                               capsys):
    caplog.set_level(logging.DEBUG)  # urllib3 logs each request line (with its query) at DEBUG
    status = ingest.main(["--assets", "BTC,ETH,SPY,AAPL", "--start", "2025-08-01"], leak_env,
                         now=NOW)
    status_quotes = ingest.main(["--assets", "BTC,SPY", "--quotes"], leak_env, now=NOW)
    # CoinMarketCap is BTC's second source: ask it directly so its key is exercised too.
    ingest.main(["--assets", "BTC", "--quotes", "--source", "coinmarketcap"], leak_env, now=NOW)
    out = capsys.readouterr()
    assert status == 1 and status_quotes == 1  # every provider failed
    # Control: the keys really went out, so the silence below means something. (CoinMarketCap's
    # header X-CMC_PRO_API_KEY has underscores, which the WSGI test server drops: count calls.)
    sent = " ".join(f"{r.url} {dict(r.headers)}" for r, _ in httpserver.log)
    assert KEYS["COINGECKO_API_KEY"] in sent and KEYS["ALPHAVANTAGE_API_KEY"] in sent
    assert any(r.path.startswith("/v2/cryptocurrency/") for r, _ in httpserver.log)
    records = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    assert caplog.records and _leaks(records) == []
    assert _leaks(caplog.text) == []
    assert _leaks(out.out + out.err) == []
    # The stored source status (shown by /api/health and the banner) is clean too.
    repo = Repository.from_url(leak_env["BTCFOLIO__STORE__URL"])
    health = repo.load_source_health()
    assert health and _leaks(json.dumps(health, default=str)) == []


def test_security_ingest_subprocess_output_has_no_key(leak_env):
    proc = subprocess.run([sys.executable, "-m", "data.ingest", "--assets", "BTC,SPY", "--quotes"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=leak_env)
    assert proc.returncode == 1, proc.stderr[-500:]
    assert "alphavantage" in proc.stdout + proc.stderr  # the failure is reported ...
    assert _leaks(proc.stdout + proc.stderr) == []  # ... without the key


def test_security_transport_error_chain_is_redacted_in_logs(caplog):
    # Alpha Vantage puts apikey in the query; requests' ConnectionError repeats the whole URL.
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = KEYS["ALPHAVANTAGE_API_KEY"]
    src = source(type("S", (), {"url_for": lambda self, p: f"http://127.0.0.1:{port}/"})(),
                 timeout=1)
    with pytest.raises(TransientError) as info:
        AlphaVantageAdapter(src, api_key=key).fetch_quotes(["SPY"])
    assert key in str(info.value.__cause__)  # control: the raw chained error carries the key
    assert key not in str(info.value)
    caplog.set_level(logging.INFO)
    logging.getLogger("btcfolio.test").exception("quote job failed", exc_info=info.value)
    logging.getLogger("btcfolio.test").error("raw: %s", info.value.__cause__)
    assert "ConnectionError" in caplog.text and _leaks(caplog.text) == []


def test_security_error_messages_mask_registered_keys_and_key_params():
    key = KEYS["CMC_API_KEY"]
    AlphaVantageAdapter(source(type("S", (), {"url_for": lambda self, p: "http://127.0.0.1:9/"})()),
                        api_key=key)  # registering happens when an adapter gets its key
    exc = TransientError(f"HTTP 500 from http://h/x?token=abc123&apikey={key} body {key}")
    assert key not in str(exc) and "abc123" not in str(exc)
    assert "token=***" in str(exc)


def _crawl(client) -> dict[str, str]:
    """Every page, API answer, Dash payload, callback output and error of the app, as text."""
    texts = {}
    for path in ("/", "/portfolio/dashboard", "/_dash-layout", "/_dash-dependencies",
                 "/api/portfolio", "/api/portfolio/history?days=3650", "/api/correlation",
                 "/api/rebalance", "/api/health", "/api/nope", "/api/portfolio?apikey=x",
                 "/no/such/page"):
        texts[path] = client.get(path, follow_redirects=True).get_data(as_text=True)
    texts["DELETE"] = client.delete("/api/holdings/DOGE").get_data(as_text=True)
    texts["POST"] = client.post("/api/holdings", json={"symbol": "SLV"}).get_data(as_text=True)
    refresh = dash_callback(client, "dashboard-refresh-interval",
                            inputs={("dashboard-refresh-interval", "n_intervals"): 1})
    texts["refresh"] = refresh.get_data(as_text=True)
    export = dash_callback(client, "export-csv", inputs={("export-csv", "n_clicks"): 1})
    texts["export"] = export.get_json()["response"]["dashboard-export-download"]["data"]["content"]
    return texts


def test_security_app_pages_api_and_export_have_no_key(leak_env):
    ingest.main(["--assets", "BTC,SPY", "--quotes"], leak_env, now=NOW)  # records the failures
    app = create_app(load_settings(ROOT / "config.yaml", leak_env), environ={})  # seeds the store
    texts = _crawl(app.server.test_client())
    assert "alphavantage" in texts["/api/health"]  # the failed source is reported ...
    assert all(texts.values())
    leaked = {name: _leaks(text) for name, text in texts.items() if _leaks(text)}
    assert leaked == {}  # ... and no page, answer, callback or export names a key


# --- CSV export --------------------------------------------------------------------------------

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
           "=HYPERLINK(\"http://evil\",\"x\")", "<script>alert(1)</script>", "a,b\"c\nd"]


@pytest.mark.parametrize("text", HOSTILE)
def test_security_escape_cell_neutralises_formula_starts(text):
    cell = escape_cell(text)
    assert not cell.startswith(FORMULA_START)
    assert cell.endswith(text)  # the text itself is kept, only prefixed


def test_security_csv_export_hostile_text_is_inert_and_numbers_stay_numbers():
    latest = pd.DataFrame({"symbol": ["BTC", "=1+1", "@X"], "price_usd": [100_000.0, 5.0, 2.0],
                           "ts": [pd.Timestamp("2025-08-13", tz="UTC")] * 3,
                           "source": ["sample", "-2+3", "\t=cmd"], "kind": ["close"] * 3})
    valuation = value_portfolio({"BTC": 1.0, "=1+1": 3.0, "@X": 2.0}, latest,
                                asset_kinds={"BTC": "crypto", "=1+1": "equity", "@X": "equity"},
                                now=datetime(2025, 8, 13, 12, tzinfo=timezone.utc))
    text = holdings_csv(valuation, names={"BTC": HOSTILE[0], "=1+1": HOSTILE[4], "@X": HOSTILE[8]},
                        categories={"BTC": "+cat", "=1+1": "\r=x", "@X": "stocks"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    numeric = ("quantity", "price_usd", "price_btc", "value_btc", "value_sats", "weight")
    for row in rows:
        for column in CSV_COLUMNS:
            if column in numeric:
                float(row[column])  # a plain number, not escaped
            else:
                assert not row[column].startswith(FORMULA_START), (column, row[column])
    assert {r["name"] for r in rows} >= {"'" + HOSTILE[0], "'" + HOSTILE[4]}


def test_security_csv_export_from_the_app_with_hostile_config_names(tmp_path, settings, repo):
    env = {"BTCFOLIO__STORE__URL": settings.store.url,
           "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"),
           "BTCFOLIO__ASSETS__ETH__NAME": HOSTILE[0], "BTCFOLIO__ASSETS__BTC__NAME": HOSTILE[6]}
    client = create_app(load_settings(ROOT / "config.yaml", env), repo,
                        environ={}).server.test_client()
    resp = dash_callback(client, "export-csv", inputs={("export-csv", "n_clicks"): 1})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    content = resp.get_json()["response"]["dashboard-export-download"]["data"]["content"]
    rows = {r["symbol"]: r for r in csv.DictReader(io.StringIO(content))}
    assert rows["ETH"]["name"] == "'" + HOSTILE[0] and rows["BTC"]["name"] == "'" + HOSTILE[6]
    assert float(rows["BTC"]["quantity"]) > 0


def _get(url: str) -> str:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.read().decode()
    except urllib.error.HTTPError as exc:  # an error page is output too
        return exc.read().decode()


def test_security_running_app_stderr_and_pages_have_no_key(leak_env, tmp_path):
    # The real process: embedded scheduler calling the echoing providers, INFO logs on stderr.
    import time
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stderr = (tmp_path / "stderr.txt").open("w+")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                            cwd=tmp_path, env=leak_env, stdout=stderr, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, errors = time.monotonic() + 90, ""
        while time.monotonic() < deadline and "alphavantage" not in errors:
            try:
                health = json.loads(_get(f"{base}/api/health"))
                errors = json.dumps({k: v for k, v in health["sources"].items()
                                     if v.get("last_error")})
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        assert "alphavantage" in errors, "the scheduler never recorded a provider failure"
        pages = {path: _get(base + path) for path in (
            "/portfolio/dashboard", "/_dash-layout", "/api/health", "/api/portfolio",
            "/api/nope", "/api/rebalance?apikey=zzz")}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    stderr.seek(0)
    log = stderr.read()
    assert "GET /api/rebalance?apikey=***" in log  # stderr has the access log, masked ...
    assert _leaks(log) == []  # ... and no key anywhere
    assert {path: _leaks(text) for path, text in pages.items() if _leaks(text)} == {}
