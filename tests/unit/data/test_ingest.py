"""Ingest end to end: four local provider servers -> python -m data.ingest -> SQLite store.

Each provider gets its own pytest-httpserver serving payloads in the provider's real format
(built on the recorded fixtures), so the stored closes can be compared with what was served.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from data.ingest.pipeline import main
from data.store.repository import Repository
from tests.support.recorded import load

NOW = datetime(2025, 8, 6, 12, tzinfo=timezone.utc)
DAYS = pd.date_range("2025-08-01", "2025-08-05", freq="D", tz="UTC")
WEEKDAYS = [d for d in DAYS if d.weekday() < 5]  # Fri 1st, Mon 4th, Tue 5th
CG_IDS = {"bitcoin": "BTC", "ethereum": "ETH", "solana": "SOL", "tether": "USDT",
          "usd-coin": "USDC"}
BASE = {"BTC": 114000.0, "ETH": 3600.0, "SOL": 165.0, "USDT": 1.0002, "USDC": 0.9998,
        "AVAX": 21.5, "SPY": 630.25, "QQQ": 560.5, "GLD": 310.75, "AAPL": 203.125}
ASSETS = list(BASE)


def served_close(symbol: str, day: pd.Timestamp) -> float:
    """The close every provider serves for a symbol and UTC date (distinct per day)."""
    return round(BASE[symbol] * (1 + 0.01 * (day.day - 1)), 6)


def coingecko_chart(symbol: str) -> dict:
    # CoinGecko's daily point at D+1 00:00 is the close of date D
    pts = [[int((d + pd.Timedelta(days=1)).timestamp() * 1000), served_close(symbol, d)]
           for d in DAYS]
    return {"prices": pts, "market_caps": pts, "total_volumes": [[t, 1e9] for t, _ in pts]}


def yahoo_chart(symbol: str, ticker: str) -> dict:
    body = copy.deepcopy(load("yahoo", "chart_QQQ_1d_2020-01-01_2020-01-03.json"))
    result = body["chart"]["result"][0]
    crypto = ticker.endswith("-USD")
    days = DAYS if crypto else WEEKDAYS
    result["meta"]["symbol"] = ticker
    result["meta"]["exchangeTimezoneName"] = "UTC" if crypto else "America/New_York"
    # equities: 09:30 New York = 13:30 UTC in August; crypto bars start at 00:00 UTC
    offset = pd.Timedelta(0) if crypto else pd.Timedelta(hours=13, minutes=30)
    closes = [served_close(symbol, d) for d in days]
    result["timestamp"] = [int((d + offset).timestamp()) for d in days]
    result["indicators"] = {"quote": [{"open": closes, "high": closes, "low": closes,
                                       "close": closes, "volume": [1000] * len(days)}],
                            "adjclose": [{"adjclose": closes}]}
    return body


def av_daily(symbol: str) -> dict:
    body = copy.deepcopy(load("alphavantage", "time_series_daily_AAPL_compact_2020-09-04.json"))
    body["Meta Data"]["2. Symbol"] = symbol
    c = {d: str(served_close(symbol, d)) for d in WEEKDAYS}
    body["Time Series (Daily)"] = {
        d.strftime("%Y-%m-%d"): {"1. open": v, "2. high": v, "3. low": v, "4. close": v,
                                 "5. volume": "1000"} for d, v in c.items()}
    return body


class Providers:
    """Four local servers and the env that points the app at them."""

    def __init__(self, tmp_path: Path) -> None:
        self.servers = {name: HTTPServer(host="127.0.0.1", port=0) for name in
                        ("coingecko", "coinmarketcap", "alphavantage", "yahoo")}
        for server in self.servers.values():
            server.start()
        self.store = f"sqlite:///{tmp_path / 'store.db'}"
        self.tmp_path = tmp_path

    def env(self, cache: str = "cache", **extra: str) -> dict[str, str]:
        env = {f"BTCFOLIO__SOURCES__{n.upper()}__BASE_URL": s.url_for("/").rstrip("/")
               for n, s in self.servers.items()}
        env.update({"DATABASE_URL": self.store, "CMC_API_KEY": "cmc-test-key",
                    "ALPHAVANTAGE_API_KEY": "av-test-key",
                    "BTCFOLIO__CACHE__DIR": str(self.tmp_path / cache)})
        env.update(extra)
        return env

    def calls(self, name: str, pattern: str) -> int:
        return sum(1 for r, _ in self.servers[name].log if re.fullmatch(pattern, r.path))

    def stop(self) -> None:
        for server in self.servers.values():
            server.clear()
            server.stop()


def serve_all(p: Providers) -> None:
    """Healthy providers: CoinGecko knows 5 coins (not AVAX), Yahoo all but AAPL, AV has AAPL."""
    def cg_chart(request: Request) -> Response:
        coin = request.path.split("/")[4]
        if coin not in CG_IDS:
            return Response(json.dumps(load("coingecko", "error_404_coin_not_found.json")),
                            status=404, content_type="application/json")
        return Response(json.dumps(coingecko_chart(CG_IDS[coin])), content_type="application/json")

    p.servers["coingecko"].expect_request(
        re.compile(r"/api/v3/coins/[^/]+/market_chart/range")).respond_with_handler(cg_chart)

    tickers = {"AVAX-USD": "AVAX", "SPY": "SPY", "QQQ": "QQQ", "GLD": "GLD"}

    def yh_chart(request: Request) -> Response:
        ticker = request.path.rsplit("/", 1)[-1]
        if ticker not in tickers:
            return Response(json.dumps(load("yahoo", "chart_error_not_found_404.json")),
                            status=404, content_type="application/json")
        return Response(json.dumps(yahoo_chart(tickers[ticker], ticker)),
                        content_type="application/json")

    yh = p.servers["yahoo"]
    yh.expect_request("/").respond_with_response(
        Response("", status=404, headers={"Set-Cookie": "A3=d=x; Path=/"}))
    yh.expect_request("/v1/test/getcrumb").respond_with_data("crumb123")
    yh.expect_request(re.compile(r"/v8/finance/chart/.+")).respond_with_handler(yh_chart)
    p.servers["alphavantage"].expect_request("/query", query_string={
        "function": "TIME_SERIES_DAILY", "symbol": "AAPL", "outputsize": "compact",
        "apikey": "av-test-key"}).respond_with_json(av_daily("AAPL"))


@pytest.fixture
def providers(tmp_path):
    p = Providers(tmp_path)
    yield p
    p.stop()


ARGS = ["--assets", ",".join(ASSETS), "--start", "2025-08-01", "--end", "2025-08-05"]


def test_ingest_ten_assets_across_providers_stores_served_prices_and_is_idempotent(
        providers, capsys):
    serve_all(providers)
    assert main(ARGS, providers.env(), now=NOW) == 0
    out = capsys.readouterr().out
    repo = Repository.from_url(providers.store)
    closes = repo.load_closes(ASSETS, interval="1d")
    for symbol in ASSETS:
        days = DAYS if symbol in {*CG_IDS.values(), "AVAX"} else WEEKDAYS
        stored = closes[symbol].dropna()
        assert list(stored.index) == list(days), symbol
        assert stored.tolist() == [served_close(symbol, d) for d in days], symbol
    sources = repo.load_prices(ASSETS).groupby("symbol")["source"].first().to_dict()
    assert sources == {**{s: "coingecko" for s in CG_IDS.values()}, "AVAX": "yahoo",
                       "SPY": "yahoo", "QQQ": "yahoo", "GLD": "yahoo", "AAPL": "alphavantage"}
    total = repo.count_prices()["1d"]
    assert total == 5 * 6 + 3 * 4  # 6 seven-day assets, 4 trading-day assets
    assert re.search(r"AAPL\s+alphavantage\s+3\s+2025-08-01 00:00\s+2025-08-05 00:00", out)
    # AVAX: CoinGecko answered 404 (not a provider fault), CMC has no history, Yahoo served it.
    assert providers.calls("coingecko", r"/api/v3/coins/avalanche-2/market_chart/range") == 1
    health = {h["source"]: h["healthy"] for h in repo.load_source_health()}
    assert health == {"coingecko": True, "yahoo": True, "alphavantage": True}

    # Same command again, with an empty cache so every provider is asked again: nothing added.
    assert main(ARGS, providers.env(cache="cache2"), now=NOW) == 0
    assert repo.count_prices()["1d"] == total
    second = capsys.readouterr().out
    assert all(line.split()[2] == "0" for line in second.splitlines()[1:])


def test_second_run_in_same_cache_window_makes_no_http_calls(providers, capsys):
    serve_all(providers)
    assert main(ARGS[:1] + ["BTC,SPY"] + ARGS[2:], providers.env(), now=NOW) == 0
    before = len(providers.servers["coingecko"].log) + len(providers.servers["yahoo"].log)
    assert main(ARGS[:1] + ["BTC,SPY"] + ARGS[2:], providers.env(), now=NOW) == 0
    after = len(providers.servers["coingecko"].log) + len(providers.servers["yahoo"].log)
    assert after == before


def test_quotes_fill_the_quotes_table_batched(providers, capsys):
    price = load("coingecko", "simple_price_oas_example.json")
    price["ethereum"] = dict(price["bitcoin"], usd=3600.5)
    providers.servers["coingecko"].expect_request("/api/v3/simple/price").respond_with_json(price)
    cmc = load("coinmarketcap", "v2_quotes_latest_by_id_1_2022-06-16.json")
    cmc["data"] = {"5426": copy.deepcopy(cmc["data"]["1"])}
    cmc["data"]["5426"]["quote"]["USD"].update(price=165.25, last_updated="2025-08-06T11:59:00Z")
    providers.servers["coinmarketcap"].expect_request(
        "/v2/cryptocurrency/quotes/latest").respond_with_json(cmc)
    # NOW must be after CoinGecko's recorded last_updated_at (2026-05-18)
    now = datetime(2026, 5, 18, 9, tzinfo=timezone.utc)
    assert main(["--assets", "BTC,ETH,SOL", "--quotes"], providers.env(), now=now) == 0
    quotes = Repository.from_url(providers.store).load_quotes().set_index("symbol")
    assert quotes.loc["BTC", "price_usd"] == 76975.0 and quotes.loc["ETH", "price_usd"] == 3600.5
    sol = quotes.loc["SOL"]
    assert (sol["source"], sol["price_usd"]) == ("coinmarketcap", 165.25)
    assert providers.calls("coingecko", "/api/v3/simple/price") == 1  # one call for 3 ids
    assert providers.calls("coinmarketcap", "/v2/cryptocurrency/quotes/latest") == 1


def test_failures_are_one_line_each_and_do_not_stop_other_assets(providers, capsys):
    serve_all(providers)
    providers.servers["alphavantage"].clear()
    providers.servers["alphavantage"].expect_request("/query").respond_with_json(
        load("alphavantage", "rate_limit_information_25_per_day_2024.json"))
    code = main(["--assets", "BTC,AAPL,SPY"] + ARGS[2:], providers.env(), now=NOW)
    captured = capsys.readouterr()
    assert code == 1
    aapl = [line for line in captured.out.splitlines() if line.startswith("AAPL")]
    assert len(aapl) == 1 and "daily request quota exhausted" in aapl[0]
    assert "No data found" in aapl[0]  # the Yahoo reason is named too
    assert "Traceback" not in captured.out + captured.err
    assert "av-test-key" not in captured.out + captured.err
    stored = Repository.from_url(providers.store).load_prices(["BTC", "SPY", "AAPL"])
    assert set(stored["symbol"]) == {"BTC", "SPY"}


def test_bad_rows_are_rejected_and_never_stored(providers, capsys):
    def bad_chart(request: Request) -> Response:
        body = coingecko_chart("BTC")
        body["prices"][1][1] = -1.0  # non-positive
        body["prices"][3][1] = body["prices"][3][1] * 50  # absurd jump
        return Response(json.dumps(body), content_type="application/json")

    providers.servers["coingecko"].expect_request(
        re.compile(r"/api/v3/coins/bitcoin/.*")).respond_with_handler(bad_chart)
    assert main(["--assets", "BTC"] + ARGS[2:], providers.env(), now=NOW) == 0
    stored = Repository.from_url(providers.store).load_prices(["BTC"])
    assert stored["ts"].dt.day.tolist() == [1, 3, 5]
    assert (stored["close"] > 0).all() and stored["close"].max() < 200000
    assert re.search(r"BTC\s+coingecko\s+3\s+.*\s2\s*$", capsys.readouterr().out, re.M)


def test_missing_key_skips_provider_with_notice(providers, capsys):
    serve_all(providers)
    env = providers.env()
    del env["ALPHAVANTAGE_API_KEY"]
    assert main(["--assets", "AAPL"] + ARGS[2:], env, now=NOW) == 1
    captured = capsys.readouterr()
    assert "alphavantage: skipped, no API key (set ALPHAVANTAGE_API_KEY)" in captured.err
    assert providers.calls("alphavantage", "/query") == 0


@pytest.mark.parametrize("argv", [
    ["--assets", "NOPE"], ["--assets", "BTC", "--start", "2025-13-01"],
    ["--assets", "BTC", "--interval", "5m"], ["--assets", "BTC", "--start", "2025-08-05",
                                              "--end", "2025-08-01"],
    ["--assets", "BTC", "--source", "nowhere"], [],
])
def test_bad_arguments_exit_2(argv, tmp_path, capsys):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    try:
        code = main(argv, env, now=NOW)
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    assert not (tmp_path / "s.db").exists()  # nothing done


# ---- ingest_once / ingest_quotes with fake adapters on the seeded sample store ----------------
class HistoryFake:
    """Serves given closes per UTC date and records the windows asked for."""

    name, max_symbols_per_request = "fake", 50

    def __init__(self, closes: dict[str, float]) -> None:
        self.closes, self.windows = closes, []

    def supports(self, capability, interval=None):
        return True

    def fetch_history(self, symbol, start, end, interval="1d"):
        from data.providers.adapters.base import make_price_frame

        self.windows.append((start, end))
        days = list(self.closes)
        return make_price_frame(pd.to_datetime(days, utc=True), symbol=symbol, source="fake",
                                close=[self.closes[d] for d in days])

    def fetch_quotes(self, symbols):
        from data.models import Quote

        return [Quote(s, 100.0, datetime(2025, 8, 14, 11, tzinfo=timezone.utc), "fake")
                for s in symbols]


def test_ingest_once_resumes_from_last_stored_bar(repo):
    from data.ingest.pipeline import ingest_once

    stored = repo.load_closes(["BTC"])["BTC"].dropna()
    last_day, last_close = stored.index[-1], stored.iloc[-1]
    assert str(last_day.date()) == "2025-08-13"
    fake = HistoryFake({"2025-08-13": last_close * 1.01, "2025-08-14": last_close * 1.02})
    now = datetime(2025, 8, 14, 12, tzinfo=timezone.utc)
    report = ingest_once({"fake": fake}, repo, ["BTC"], now=now)
    assert report.ok and report.assets[0].rows == 2  # 08-13 updated, 08-14 added
    assert fake.windows == [(datetime(2025, 8, 13, tzinfo=timezone.utc),
                             datetime(2025, 8, 14, 23, 59, 59, tzinfo=timezone.utc))]
    after = repo.load_closes(["BTC"])["BTC"].dropna()
    assert after.iloc[-1] == pytest.approx(last_close * 1.02)
    assert ingest_once({"fake": fake}, repo, ["BTC"], now=now).assets[0].rows == 0


def test_jump_against_last_stored_close_is_rejected(repo):
    from data.ingest.pipeline import ingest_once

    last_close = repo.load_closes(["ETH"])["ETH"].dropna().iloc[-1]
    fake = HistoryFake({"2025-08-14": last_close * 10})
    report = ingest_once({"fake": fake}, repo, ["ETH"], now=datetime(2025, 8, 14, 12,
                                                                     tzinfo=timezone.utc),
                         start=datetime(2025, 8, 14).date())
    (asset,) = report.assets
    assert not report.ok and asset.rejected == 1 and "all 1 bars rejected" in asset.error
    assert "jumps x10" in asset.error
    assert str(repo.load_closes(["ETH"])["ETH"].dropna().index[-1].date()) == "2025-08-13"


def test_cached_quotes_are_not_rewritten(repo, tmp_path):
    from flask_caching.backends.filesystemcache import FileSystemCache

    from data.ingest.pipeline import ingest_quotes
    from data.providers.cache import PriceCache
    from data.providers.registry import Registry

    cache = PriceCache(FileSystemCache(str(tmp_path / "c")), quote_ttl=30)
    registry = Registry(adapters={"fake": HistoryFake({})}, chains={"BTC": ["fake"]}, cache=cache)
    t0 = datetime(2025, 8, 14, 12, tzinfo=timezone.utc)
    assert ingest_quotes(registry, repo, ["BTC"], now=t0).assets[0].rows == 1
    second = ingest_quotes(registry, repo, ["BTC"], now=t0 + pd.Timedelta(seconds=10))
    assert second.ok and second.assets[0].rows == 0
    stored = repo.load_quotes().set_index("symbol").loc["BTC"]
    assert stored["fetched_at"] == pd.Timestamp(t0)  # not refreshed by the cache hit


@pytest.mark.postgres
def test_ingest_once_idempotent_on_sqlite_and_postgresql(store):
    from data.ingest.pipeline import ingest_once

    fake = HistoryFake({"2025-08-01": 100.5, "2025-08-02": 101.25, "2025-08-03": 99.75})
    kw = {"now": datetime(2025, 8, 4, tzinfo=timezone.utc),
          "start": datetime(2025, 8, 1).date(), "end": datetime(2025, 8, 3).date()}
    assert ingest_once({"fake": fake}, store, ["BTC"], **kw).assets[0].rows == 3
    assert ingest_once({"fake": fake}, store, ["BTC"], **kw).assets[0].rows == 0
    assert store.load_closes(["BTC"])["BTC"].tolist() == [100.5, 101.25, 99.75]
