"""One contract every adapter keeps, checked against a local server serving recorded payloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import pytest

from data.providers.adapters.alphavantage import AlphaVantageAdapter
from data.providers.adapters.base import PRICE_COLUMNS, PriceAdapter, validate_prices
from data.providers.adapters.coingecko import CoinGeckoAdapter
from data.providers.adapters.coinmarketcap import CoinMarketCapAdapter
from data.providers.adapters.yahoofinance import YahooFinanceAdapter
from errors import InvalidInputError
from tests.support.adapters import source
from tests.support.recorded import OHLCV, raw


@dataclass
class Case:
    cls: type[PriceAdapter]
    symbol: str
    vendor_id: str
    start: datetime
    end: datetime
    serve: Callable
    plan: str | None = None


def _json(httpserver, path, provider, name):
    httpserver.expect_request(path).respond_with_data(raw(provider, name),
                                                      content_type="application/json")


def serve_coingecko(s):
    _json(s, "/api/v3/coins/bitcoin/market_chart/range", "coingecko",
          "coins_market_chart_daily_alephium_vs_btc_2023-12.json")
    _json(s, "/api/v3/simple/price", "coingecko", "simple_price_oas_example.json")


def serve_cmc(s):
    s.expect_request("/v2/cryptocurrency/ohlcv/historical").respond_with_json(OHLCV)
    _json(s, "/v2/cryptocurrency/quotes/latest", "coinmarketcap",
          "v2_quotes_latest_by_id_1_2022-06-16.json")


def serve_av(s):
    def route(request):
        from werkzeug import Response

        name = ("global_quote_MSFT_2018-10-05.json" if request.args["function"] == "GLOBAL_QUOTE"
                else "time_series_daily_AAPL_compact_2020-09-04.json")
        return Response(raw("alphavantage", name), content_type="application/json")

    s.expect_request("/query").respond_with_handler(route)


def serve_yahoo(s):
    s.expect_request("/").respond_with_data("")
    s.expect_request("/v1/test/getcrumb").respond_with_data("crumb")
    _json(s, "/v8/finance/chart/BTC-USD", "yahoo", "chart_BTC-USD_1d_2020-01-01_2020-01-03.json")
    _json(s, "/v7/finance/quote", "yahoo", "quote_v7_BTC-USD.json")


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


CASES = [
    Case(CoinGeckoAdapter, "BTC", "bitcoin", utc(2023, 12, 9), utc(2023, 12, 13, 23, 59, 59),
         serve_coingecko),
    Case(CoinMarketCapAdapter, "BTC", "1", utc(2019, 1, 2), utc(2019, 1, 3, 23, 59, 59),
         serve_cmc, plan="pro"),
    Case(AlphaVantageAdapter, "MSFT", "MSFT", utc(2020, 8, 31), utc(2020, 9, 4, 23, 59, 59),
         serve_av),
    Case(YahooFinanceAdapter, "BTC", "BTC-USD", utc(2020, 1, 1), utc(2020, 1, 3, 23, 59, 59),
         serve_yahoo),
]


@pytest.fixture(params=CASES, ids=lambda c: c.cls.name)
def case(request, httpserver):
    c = request.param
    c.serve(httpserver)
    adapter = c.cls(source(httpserver, plan=c.plan), api_key="k", ids={c.symbol: c.vendor_id})
    return c, adapter, httpserver


def test_history_has_price_schema_in_window(case):
    c, adapter, server = case
    frame = adapter.fetch_history(c.symbol, c.start, c.end, "1d")
    assert list(frame.columns) == list(PRICE_COLUMNS)
    validate_prices(frame, provider=adapter.name)
    assert set(frame["symbol"]) == {c.symbol} and set(frame["source"]) == {adapter.name}
    assert frame["ts"].between(c.start, c.end).all() and (frame["ts"].dt.hour == 0).all()
    assert len(server.log) >= 1  # the request went to base_url


def test_quotes_are_canonical_and_tz_aware(case):
    c, adapter, _ = case
    (quote,) = adapter.fetch_quotes([c.symbol])
    assert (quote.symbol, quote.source) == (c.symbol, adapter.name)
    assert quote.price_usd > 0 and quote.ts.utcoffset().total_seconds() == 0


def test_unoffered_interval_is_refused_without_a_call(case):
    c, adapter, server = case
    if "1m" in adapter.intervals:
        pytest.skip(f"{adapter.name} offers every interval")
    with pytest.raises(InvalidInputError):
        adapter.fetch_history(c.symbol, c.start, c.end, "1m")
    assert server.log == []
