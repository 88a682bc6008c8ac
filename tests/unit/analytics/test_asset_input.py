"""Validation of a custom asset (pure): what is refused, and how accepted text is normalised."""

from __future__ import annotations

import pytest

from analytics.asset_input import validate_asset, validate_asset_symbol
from errors import InvalidInputError

CATEGORIES = ("stable_crypto", "high_vol_crypto", "stablecoins", "stocks", "commodities")
PROVIDERS = ("coingecko", "coinmarketcap", "alphavantage", "yahoo")
RESERVED = ("BTC", "ETH", "SPY")
DOGE = {"symbol": "DOGE", "symbols": {"coingecko": "dogecoin", "yahoo": "DOGE-USD"}}


def _validate(**changes):
    return validate_asset({**DOGE, **changes}, categories=CATEGORIES, providers=PROVIDERS,
                          reserved=RESERVED)


def test_asset_input_normalises_symbol_ids_and_default_sources():
    got = _validate(symbol=" ＤＯＧＥ ", symbols={"yahoo": "doge-usd", "coingecko": "DogeCoin",
                                                 "coinmarketcap": 74}, kind="Crypto")
    assert got.symbol == "DOGE"  # full-width letters are NFKC-folded, then upper-cased
    assert got.symbols == {"yahoo": "DOGE-USD", "coingecko": "dogecoin", "coinmarketcap": "74"}
    assert got.sources == ("coingecko", "yahoo", "coinmarketcap")  # keyless providers first
    assert got.kind == "crypto" and got.name is None and got.category is None


def test_asset_input_keeps_a_given_source_order():
    got = _validate(sources=["yahoo", "coingecko"])
    assert got.sources == ("yahoo", "coingecko")


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"symbol": "BTC"}, "symbol", "config.yaml"),
    ({"symbol": "eth"}, "symbol", "config.yaml"),
    ({"symbol": "ДОГЕ"}, "symbol", "ASCII"),          # Cyrillic look-alikes stay non-ASCII
    ({"symbol": "DOGE COIN"}, "symbol", "ASCII"),
    ({"symbol": "-DOGE"}, "symbol", "ASCII"),
    ({"symbol": "A" * 17}, "symbol", "at most 16"),
    ({"symbol": ""}, "symbol", "empty"),
    ({"symbol": "DO\tGE"}, "symbol", "control"),
    ({"symbol": 5}, "symbol", "string"),
    ({"symbol": None}, "symbol", "string"),
    ({"kind": "bond"}, "kind", "unknown kind"),
    ({"category": "memecoins"}, "category", "unknown category"),
    ({"name": "x" * 101}, "name", "at most 100"),
    ({"name": "Doge\ncoin"}, "name", "control"),
    ({"symbols": {}}, "symbols", "at one provider"),
    ({"symbols": ["dogecoin"]}, "symbols", "at one provider"),
    ({"symbols": {"binance": "DOGEUSDT"}}, "symbols", "unknown provider"),
    ({"symbols": {"coingecko": "doge coin"}}, "symbols", "not a valid coingecko id"),
    ({"symbols": {"coingecko": "../../etc/passwd"}}, "symbols", "not a valid"),
    ({"symbols": {"yahoo": "DOGE-USD&crumb=x"}}, "symbols", "not a valid yahoo id"),
    ({"symbols": {"coinmarketcap": "seventy"}}, "symbols", "not a valid coinmarketcap id"),
    ({"symbols": {"coingecko": 5}}, "symbols.coingecko", "string"),
    ({"symbols": {"coingecko": True}}, "symbols.coingecko", "string"),
    ({"sources": ["alphavantage"]}, "sources", "at most once"),
    ({"sources": ["yahoo", "yahoo"]}, "sources", "at most once"),
    ({"sources": "yahoo"}, "sources", "list"),
    ({"admin": True}, "body", "unknown field"),
])
def test_asset_input_refuses_with_the_field_named(changes, field, words):
    with pytest.raises(InvalidInputError) as err:
        _validate(**changes)
    assert err.value.field == field
    assert words in str(err.value)


@pytest.mark.parametrize("body", [None, [], "DOGE", 1])
def test_asset_input_refuses_a_body_that_is_not_an_object(body):
    with pytest.raises(InvalidInputError, match="JSON object"):
        validate_asset(body, categories=CATEGORIES, providers=PROVIDERS, reserved=RESERVED)


def test_asset_symbol_accepts_dots_and_dashes_after_the_first_character():
    assert validate_asset_symbol("brk.b") == "BRK.B"
    assert validate_asset_symbol("ABC-1") == "ABC-1"
