"""Provider faults while the app serves: it keeps answering, stores no bad row, shows the status.

One real ``python app.py`` (embedded scheduler) runs for the whole module on a store seeded
without SOL, so besides the quote job every second brings a backfill of SOL's history. Every
provider's base_url is a ``FaultProxy`` in front of the fake CoinGecko, and all four are enabled
(crypto falls back CoinGecko -> CoinMarketCap -> Yahoo, stocks Yahoo -> Alpha Vantage), so each
fault reaches every adapter, yfinance's cookie and crumb steps included. Each test switches the
proxy to one fault and waits until a quote run and a backfill run that both started after the
switch have ended, while polling the routes a user hits. The last app test lifts the fault:
only good rows arrive and the status clears. Two direct tests bound the slow paths that an
app-level wait could not tell from a long run.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from data.providers.adapters.yahoofinance import YahooFinanceAdapter
from data.providers.http import get_json
from errors import TransientError
from settings import SourceSettings
from tests.support.fake_provider import FakeCoinGecko
from tests.support.fault_provider import Fault, FaultProxy, fixture
from tests.support.faults import (
    bad_values,
    price_rows,
    quote_rows,
    seed_without,
    start_app,
)
from tests.support.processes import wait_for

CHECKED = ("coingecko", "coinmarketcap", "alphavantage", "yahoo")
# Real payloads of each provider (a fault cuts or slows them; the data itself is fine).
GOOD = {"coingecko": fixture("coingecko", "coins_market_chart_range_oas_example.json"),
        "coinmarketcap": fixture("coinmarketcap", "v2_quotes_latest_by_id_1_2022-06-16.json"),
        "alphavantage": fixture("alphavantage", "global_quote_MSFT_2018-10-05.json"),
        "yahoo": fixture("yahoo", "quote_v7_BTC-USD.json")}
# Yahoo's error object (served on the quote and the chart path alike): the quote parser reads
# it as "Unauthorized", the chart parser finds no chart object. Either is a provider fault.
YAHOO_200 = ("Unauthorized", "no chart object")
RETRY_AFTER = 1


@dataclass(frozen=True)
class Case:
    fault: Fault
    # provider -> text (or alternatives) its health's last_error must contain
    expect: dict[str, str | tuple[str, ...]]
    min_quote_run_seconds: float = 0.0


def _each(text: str, **overrides: str) -> dict[str, str]:
    return {**dict.fromkeys(CHECKED, text), **overrides}


CASES = {
    "timeout": Case(Fault("timeout"), _each("timed out after 0.5s")),
    "429-retry-after": Case(
        Fault("status", 429, headers=(("Retry-After", str(RETRY_AFTER)),), bodies={
            "coingecko": fixture("coingecko", "error_429_rate_limit.json"),
            "coinmarketcap": fixture("coinmarketcap", "error_429_1008_rate_limit_minute.json")}),
        # yfinance turns a 429 into its own exception (the header is lost on the way).
        _each("HTTP 429", yahoo="rate limited"),
        # Each failed call waits Retry-After before its one retry: the run cannot be shorter.
        min_quote_run_seconds=RETRY_AFTER),
    # Every vendor's own error object, sent with HTTP 200 as the vendors do (or may).
    "200-rate-limit-bodies": Case(
        Fault("body200", bodies={
            "coingecko": fixture("coingecko", "error_429_rate_limit.json"),
            "coinmarketcap": fixture("coinmarketcap", "error_429_1008_rate_limit_minute.json"),
            "alphavantage": fixture("alphavantage", "rate_limit_note_5_per_minute_2018-2023.json"),
            "yahoo": fixture("yahoo", "quote_v7_error_invalid_crumb_401.json"),
        }),
        {"coingecko": "error 429", "coinmarketcap": "error 1008",
         "alphavantage": "call frequency limit", "yahoo": YAHOO_200}),
    "5xx": Case(Fault("status", 503, default_body=b"<html>503 Service Unavailable</html>"),
                _each("HTTP 503")),
    "truncated-json": Case(Fault("truncated", bodies=GOOD), _each("undecodable")),
    "200-error-bodies": Case(
        Fault("body200", bodies={
            "coingecko": fixture("coingecko", "error_429_rate_limit.json"),
            "coinmarketcap": fixture("coinmarketcap", "error_401_1001_api_key_invalid.json"),
            "alphavantage": fixture("alphavantage",
                                    "rate_limit_information_25_per_day_2024.json"),
            "yahoo": fixture("yahoo", "quote_v7_error_invalid_crumb_401_v2024.json"),
        }),
        {"coingecko": "error 429", "coinmarketcap": "error 1001",
         "alphavantage": "daily request quota", "yahoo": YAHOO_200}),
    "connection-reset": Case(Fault("reset"),
                             _each("connection failed", yahoo="request failed")),
    # CoinGecko's "unknown coin" is about the symbol, not the provider: not counted against it.
    "200-invalid-call": Case(
        Fault("body200", bodies={
            "coingecko": fixture("coingecko", "error_404_coin_not_found.json"),
            "coinmarketcap": fixture("coinmarketcap", "error_401_1002_api_key_missing.json"),
            "alphavantage": fixture("alphavantage", "error_message_invalid_api_call.json")}),
        {"alphavantage": "Invalid API call", "coinmarketcap": "error 1002"}),
    # Each byte comes well within the read timeout; the whole answer would take minutes.
    # (Yahoo's client, curl, has a total timeout of its own.)
    "slow-drip": Case(Fault("drip", bodies=GOOD, drip_interval=0.2),
                      _each("in total", yahoo="timed out after 0.5s")),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(app, proxy, engine): the app serving on a store seeded without SOL, providers faulty."""
    tmp = tmp_path_factory.mktemp("faults")
    fake = FakeCoinGecko().start()
    proxy = FaultProxy(fake.url).start()
    proxy.set(Fault("status", 503))  # nothing reaches the store before the tests look
    url = f"sqlite:///{tmp / 'store.db'}"
    app = start_app(tmp, proxy.url, store_url=url,
                    BTCFOLIO__STORE__SEED_FILE=str(seed_without(tmp, {"SOL"})))
    engine = sa.create_engine(url)
    try:
        # The daily history job runs once at start (then at its cron time): let it end first,
        # so each test sees only the runs it caused.
        wait_for(lambda: app.health()["scheduler"]["jobs"].get("history", {}).get("runs"), 60,
                 "the start-up history run")
        yield app, proxy, engine
    finally:
        code = app.stop()
        engine.dispose()
        proxy.stop()
        fake.stop()
        log = app.log.read_text()
        assert code == 0, log[-3000:]
        assert "Traceback" not in log, log[log.index("Traceback") - 500:][:4000]


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _runs_since(app, t0: datetime) -> dict | None:
    """The quotes and backfill jobs' last runs, once both started at/after t0 and ended."""
    jobs = app.health()["scheduler"]["jobs"]
    done = {name: jobs.get(name, {}) for name in ("quotes", "backfill")}
    if all(j.get("last_run") and _when(j["last_run"]) >= t0 for j in done.values()):
        return done
    return None


def _user_routes_answer(app) -> None:
    """What a user's browser asks for: the JSON portfolio, the page, its refresh callback."""
    status, body = app.get("/api/portfolio")
    assert status == 200, body[:300]
    assert json.loads(body)["portfolio_value_btc"] > 0
    status, body = app.get("/portfolio/dashboard")
    assert status == 200 and b"_dash-config" in body, body[:300]
    app.banner_text()  # the refresh callback answers 200 (asserted inside)


@pytest.mark.parametrize("name", list(CASES))
def test_fault_keeps_app_serving_stores_nothing_and_shows_status(served, name):
    app, proxy, engine = served
    case = CASES[name]
    prices_before, quotes_before = price_rows(engine), quote_rows(engine)
    served_before = {p: proxy.count(case.fault.kind, p) for p in case.expect}

    t0 = datetime.now(timezone.utc)
    proxy.set(case.fault)

    def finished() -> dict | None:
        _user_routes_answer(app)  # on every poll, while ingest runs against the fault
        return _runs_since(app, t0)

    jobs = wait_for(finished, 90, f"a quote run and a backfill run under the {name} fault")
    _user_routes_answer(app)

    # The fault really reached every provider under test, and every run failed.
    for provider in case.expect:
        assert proxy.count(case.fault.kind, provider) > served_before[provider], provider
    assert proxy.count(case.fault.kind, "coingecko", "history") > 0
    assert jobs["quotes"]["outcome"] == "error", jobs["quotes"]
    assert jobs["backfill"]["outcome"] == "error", jobs["backfill"]
    assert jobs["quotes"]["seconds"] >= case.min_quote_run_seconds

    # No bad row: nothing was added or changed, and nothing stored is NaN, zero or negative.
    assert price_rows(engine) == prices_before
    assert quote_rows(engine) == quotes_before
    assert bad_values(engine) == 0

    # The degraded status is shown: per source in /api/health, and in the dashboard banner.
    sources = app.health()["sources"]
    for provider, text in case.expect.items():
        health = sources[provider]
        assert health["healthy"] is False, (provider, health)
        texts = text if isinstance(text, tuple) else (text,)
        assert any(t in health["last_error"] for t in texts), (provider, health["last_error"])
    banner = app.banner_text()
    assert banner.startswith(("Offline", "Stale")), banner
    failing = banner.split("Failing sources:", 1)[1]
    assert all(p in failing for p in case.expect), banner


def test_after_the_faults_only_good_rows_arrive_and_the_status_clears(served):
    app, proxy, engine = served
    before = price_rows(engine)
    t0 = datetime.now(timezone.utc)
    proxy.set(Fault())

    def sol_backfilled() -> bool:
        _user_routes_answer(app)
        return any(row[0] == "SOL" for row in price_rows(engine))

    def quoted() -> bool:
        _user_routes_answer(app)
        return (any(source == "coingecko" for _s, _p, _ts, source, _f in quote_rows(engine))
                and app.health()["sources"]["coingecko"]["healthy"])

    wait_for(sol_backfilled, 60, "the SOL backfill once the provider is healthy")
    # (The first quote run may still find CoinGecko's circuit open from the last fault.)
    wait_for(quoted, 60, "fresh CoinGecko quotes")
    after = price_rows(engine)
    assert before <= after  # nothing lost or overwritten
    added = after - before
    # Only the fake's good bars: its daily closes are 50 + (day number mod 7), within the
    # backfill window (the daily history job, if its cron time falls now, adds the same kind).
    window_start = (t0 - timedelta(days=32)).timestamp()
    assert all(interval == "1d" and source == "coingecko" and close in range(50, 57)
               and window_start <= ts <= t0.timestamp()
               for _symbol, interval, ts, close, source in added), sorted(added)[:5]
    assert sum(row[0] == "SOL" for row in added) >= 30 and bad_values(engine) == 0
    assert all(price > 0 for _s, price, _ts, _src, _f in quote_rows(engine))
    banner = app.banner_text()
    assert "coingecko" not in banner and not banner.startswith("Offline"), banner


def _outcome_within(fn, seconds: float) -> BaseException | None:
    """Run fn in a thread; its exception (None if it returned), failing if it is still running
    after ``seconds`` (a generous bound, many times the budget under test)."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still waiting on the faulty server after {seconds:.0f} s"
    return outcome[0]


def test_get_json_gives_up_on_a_slow_drip_within_its_timeout():
    """A body trickling in (each byte well within the read timeout) cannot hold the caller."""
    proxy = FaultProxy("http://127.0.0.1:9").start()
    # 4 000 bytes at 0.05 s each: 200 s in total, against a 0.5 s timeout.
    proxy.set(Fault("drip", default_body=b"[" + b"1," * 2000 + b"1]", drip_interval=0.05))
    try:
        error = _outcome_within(lambda: get_json(
            requests.Session(), proxy.url + "/api/v3/simple/price", timeout=0.5,
            provider="coingecko"), 30)
    finally:
        proxy.stop()
    assert isinstance(error, TransientError) and "in total" in str(error), error


def test_yahoo_adapter_gives_up_on_an_unresponsive_server_within_its_timeout():
    """yfinance's cookie and crumb steps wait 30 s each by default; the adapter's budget rules."""
    proxy = FaultProxy("http://127.0.0.1:9").start()
    proxy.set(Fault("timeout"))
    adapter = YahooFinanceAdapter(SourceSettings(base_url=proxy.url, timeout_seconds=0.5),
                                  ids={"SPY": "SPY"})
    try:
        error = _outcome_within(lambda: adapter.fetch_quotes(["SPY"]), 20)
    finally:
        proxy.stop()
    assert isinstance(error, TransientError) and "timed out" in str(error), error
    # It did try: the cookie page, the crumb or the quote itself reached the server.
    assert proxy.count("timeout", "yahoo") >= 1
