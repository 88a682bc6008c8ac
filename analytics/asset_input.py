"""Validate a custom asset entered by a user (form or JSON API) before anything is stored (pure).

A custom asset is an asset beyond config.yaml's universe: a symbol, a name, a category, a kind
(crypto or equity) and its id at one or more providers. Text is NFKC-normalised first, so a
full-width "ＤＯＧＥ" is "DOGE" and cannot pose as a different asset than the one it reads as.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from errors import InvalidInputError

MAX_SYMBOL_LEN = 16
MAX_NAME_LEN = 100
KINDS = ("crypto", "equity")
# Fallback order when the user gives none: the keyless providers first.
DEFAULT_SOURCE_ORDER = ("coingecko", "yahoo", "coinmarketcap", "alphavantage")
ACCEPTED_KEYS = frozenset({"symbol", "name", "category", "kind", "symbols", "sources"})
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-]*")
# Each provider's id syntax (ids go into URL paths and query strings: nothing else gets in).
PROVIDER_ID_PATTERNS = {
    "coingecko": re.compile(r"[a-z0-9][a-z0-9._\-]{0,99}"),       # "dogecoin", "avalanche-2"
    "yahoo": re.compile(r"[A-Z0-9^][A-Z0-9.\-=^]{0,23}"),         # "DOGE-USD", "BRK-B", "^GSPC"
    "coinmarketcap": re.compile(r"[1-9][0-9]{0,9}"),               # numeric id "74"
    "alphavantage": re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,23}"),      # "DOGE", "VOW3.DE"
}
# How each provider spells its ids (CoinGecko ids are lower case, tickers upper case).
_ID_CASE = {"coingecko": str.lower, "yahoo": str.upper, "coinmarketcap": str,
            "alphavantage": str.upper}


@dataclass(frozen=True)
class AssetInput:
    """A validated custom asset; name, category and kind may still be filled by a lookup."""

    symbol: str
    symbols: dict[str, str]
    sources: tuple[str, ...]
    name: str | None = None
    category: str | None = None
    kind: str | None = None


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string", field=what)
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise InvalidInputError(f"{what} must not be empty", field=what)
    if not text.isprintable():
        raise InvalidInputError(f"{what} contains control characters", field=what)
    return text


def validate_asset_symbol(value: object) -> str:
    """The canonical symbol: NFKC, upper case, ASCII letters/digits/'.'/'-', at most 16.

    Raises:
        InvalidInputError: not a string, empty, too long or not ASCII after NFKC.
    """
    text = _text(value, "symbol").upper()
    if len(text) > MAX_SYMBOL_LEN:
        raise InvalidInputError(f"the symbol must be at most {MAX_SYMBOL_LEN} characters",
                                field="symbol")
    if not text.isascii() or not _SYMBOL.fullmatch(text):
        raise InvalidInputError("the symbol must be ASCII letters and digits "
                                "(and '.' or '-' after the first), e.g. DOGE", field="symbol")
    return text


def _choice(value: object, what: str, allowed: Collection[str]) -> str | None:
    if value is None:
        return None
    text = _text(value, what).lower()
    if text not in allowed:
        raise InvalidInputError(f"unknown {what} {text[:32]!r} "
                                f"(known: {', '.join(allowed)})", field=what)
    return text


def validate_provider_ids(value: object, providers: Collection[str]) -> dict[str, str]:
    """``{provider: id}`` with at least one known provider and each id in its provider's syntax.

    Raises:
        InvalidInputError: not an object, empty, unknown provider, or a malformed id.
    """
    if not isinstance(value, Mapping) or not value:
        raise InvalidInputError('symbols must name the asset at one provider or more, '
                                'e.g. {"coingecko": "dogecoin", "yahoo": "DOGE-USD"}',
                                field="symbols")
    out: dict[str, str] = {}
    for provider, vendor_id in value.items():
        if provider not in providers or provider not in PROVIDER_ID_PATTERNS:
            raise InvalidInputError(f"unknown provider {str(provider)[:32]!r} "
                                    f"(known: {', '.join(providers)})", field="symbols")
        if provider == "coinmarketcap" and type(vendor_id) is int:
            vendor_id = str(vendor_id)  # CoinMarketCap ids are numbers
        text = _ID_CASE[provider](_text(vendor_id, f"symbols.{provider}"))
        if not text.isascii() or not PROVIDER_ID_PATTERNS[provider].fullmatch(text):
            raise InvalidInputError(f"{text[:40]!r} is not a valid {provider} id", field="symbols")
        out[provider] = text
    return out


def _sources(value: object, symbols: Mapping[str, str]) -> tuple[str, ...]:
    if value is None:
        return tuple(p for p in DEFAULT_SOURCE_ORDER if p in symbols)
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise InvalidInputError("sources must be a list of provider names", field="sources")
    if len(set(value)) != len(value) or any(s not in symbols for s in value):
        raise InvalidInputError("sources must name each provider of symbols at most "
                                         "once", field="sources")
    return tuple(value)


def validate_asset(body: object, *, categories: Collection[str], providers: Collection[str],
                   reserved: Collection[str]) -> AssetInput:
    """Validate a custom asset; ``reserved``: the symbols of config.yaml's universe.

    Name, category and kind may be missing (a lookup fills them); when given they are checked.

    Raises:
        InvalidInputError: the first problem found (nothing may be stored).
    """
    if not isinstance(body, Mapping):
        raise InvalidInputError("expected a JSON object with symbol and symbols", field="body")
    unknown = sorted(str(k)[:32] for k in set(body) - ACCEPTED_KEYS)
    if unknown:
        raise InvalidInputError(f"unknown field(s): {', '.join(unknown)}", field="body")
    symbol = validate_asset_symbol(body.get("symbol"))
    if symbol in reserved:
        raise InvalidInputError(f"{symbol} is already an asset of config.yaml's universe",
                                field="symbol")
    name = None if body.get("name") is None else _text(body["name"], "name")
    if name is not None and len(name) > MAX_NAME_LEN:
        raise InvalidInputError(f"the name must be at most {MAX_NAME_LEN} characters", field="name")
    symbols = validate_provider_ids(body.get("symbols"), providers)
    return AssetInput(symbol=symbol, symbols=symbols,
                      sources=_sources(body.get("sources"), symbols), name=name,
                      category=_choice(body.get("category"), "category", categories),
                      kind=_choice(body.get("kind"), "kind", KINDS))
