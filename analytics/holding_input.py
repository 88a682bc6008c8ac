"""Validate a holding entered by a user (form or JSON API) before anything is stored (pure)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection

# Above this a quantity is a typo, not a holding (the whole BTC supply is 2.1e7).
MAX_QUANTITY = 1e12
# Below this a quantity is noise (1 sat is 1e-8 BTC): a subnormal like 1e-320 would value to 0.
MIN_QUANTITY = 1e-12


class HoldingInputError(ValueError):
    """A holding that must not be stored; ``field`` is "symbol" or "quantity"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validate_symbol(symbol: object, universe: Collection[str]) -> str:
    """Return the canonical (upper-case) symbol if it is in the configured universe.

    Raises:
        HoldingInputError: not a string, empty, or not a configured asset.
    """
    if not isinstance(symbol, str) or not symbol.strip():
        raise HoldingInputError("symbol", "choose an asset")
    if not symbol.isprintable():  # a tab, NUL or newline is not a typo of a configured symbol
        raise HoldingInputError("symbol", "the symbol contains control characters")
    text = symbol.strip()
    if not text.isascii():
        # str.upper() folds look-alikes onto ASCII ("ſol" -> "SOL", "ﬀ" -> "FF"), so a
        # non-ASCII symbol is refused before any case folding; NFKC only suggests the intent.
        folded = unicodedata.normalize("NFKC", text).upper()
        hint = f" (did you mean {folded}?)" if folded.isascii() and folded in universe else ""
        raise HoldingInputError("symbol", f"symbols are plain ASCII letters and digits{hint}")
    canonical = text.upper()
    if canonical not in universe:
        raise HoldingInputError(
            "symbol", f"{canonical[:32]} is not an asset of the configured universe")
    return canonical


def validate_quantity(quantity: object) -> float:
    """Return the quantity as a float if it is a finite number in [MIN_QUANTITY, MAX_QUANTITY].

    Strings are refused even when they look numeric: the form sends numbers and the JSON API
    must get a JSON number, so a string is a client bug worth reporting.

    Raises:
        HoldingInputError: missing, not a number (bools included), NaN/inf, <= 0 or too large.
    """
    if quantity is None or quantity == "":
        raise HoldingInputError("quantity", "enter a quantity (a number)")
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float)):
        raise HoldingInputError("quantity", "the quantity must be a number")
    try:
        value = float(quantity)
    except OverflowError:  # an int beyond float range (JSON allows any digits)
        value = math.inf
    if math.isinf(value) and value > 0 and isinstance(quantity, int):
        raise HoldingInputError("quantity", f"the quantity must be at most {MAX_QUANTITY:,.0f}")
    if not math.isfinite(value):
        raise HoldingInputError("quantity", "the quantity must be a finite number")
    if value <= 0:
        raise HoldingInputError("quantity", "the quantity must be greater than zero")
    if value < MIN_QUANTITY:
        raise HoldingInputError("quantity", f"the quantity must be at least {MIN_QUANTITY:g}")
    if value > MAX_QUANTITY:
        raise HoldingInputError("quantity", f"the quantity must be at most {MAX_QUANTITY:,.0f}")
    return value


def validate_holding(symbol: object, quantity: object,
                     universe: Collection[str]) -> tuple[str, float]:
    """Validate both parts of a holding; see validate_symbol and validate_quantity."""
    return validate_symbol(symbol, universe), validate_quantity(quantity)
