"""Lookup parsing (name, asset class, price of a provider id) on recorded payloads."""

from __future__ import annotations

import pytest

from data.providers.adapters.coingecko import CoinGeckoAdapter
from data.providers.adapters.yahoofinance import YahooFinanceAdapter
from errors import BadResponseError, NotFoundError, RateLimitError
from tests.support.recorded import load


@pytest.mark.parametrize(("name", "price"), [("coins_markets_oas_example.json", 77671.0),
                                            ("coins_markets_pycoingecko_2018.json",
                                             7015.11823787848)])
def test_coingecko_listing_reads_name_ticker_and_price(name, price):
    listing = CoinGeckoAdapter._parse_listing(load("coingecko", name), "bitcoin")
    assert (listing.name, listing.ticker, listing.kind) == ("Bitcoin", "BTC", "crypto")
    assert listing.price_usd == price


def test_coingecko_listing_of_an_unknown_id_is_not_found():
    # /coins/markets answers an unknown id with an empty list, not an error status.
    with pytest.raises(NotFoundError, match="dogecoinn"):
        CoinGeckoAdapter._parse_listing([], "dogecoinn")
    with pytest.raises(NotFoundError):
        CoinGeckoAdapter._parse_listing(load("coingecko", "coins_markets_oas_example.json"),
                                        "ethereum")


def test_coingecko_listing_error_bodies_are_typed():
    with pytest.raises(RateLimitError):
        CoinGeckoAdapter._parse_listing(load("coingecko", "error_429_rate_limit.json"), "x")
    with pytest.raises(NotFoundError):
        CoinGeckoAdapter._parse_listing(load("coingecko", "error_404_coin_not_found.json"), "x")
    with pytest.raises(BadResponseError):
        CoinGeckoAdapter._parse_listing({"bitcoin": {}}, "bitcoin")


@pytest.mark.parametrize(("fixture", "ticker", "expected"), [
    ("quote_v7_AAPL.json", "AAPL", ("Apple Inc.", "AAPL", "equity", 333.69)),
    ("quote_v7_BTC-USD.json", "BTC-USD", ("Bitcoin USD", "BTC", "crypto", 84613.75)),
])
def test_yahoo_listing_reads_name_kind_and_price(fixture, ticker, expected):
    listing = YahooFinanceAdapter._parse_listing(load("yahoo", fixture), ticker)
    assert (listing.name, listing.ticker, listing.kind, listing.price_usd) == expected


def test_yahoo_listing_of_an_unknown_ticker_is_not_found():
    empty = load("yahoo", "quote_v7_AAPL.json")
    empty["quoteResponse"]["result"] = []
    with pytest.raises(NotFoundError, match="DOGE-USDX"):
        YahooFinanceAdapter._parse_listing(empty, "DOGE-USDX")
    with pytest.raises(BadResponseError):
        YahooFinanceAdapter._parse_listing({"finance": {}}, "AAPL")
