"""Validate a holding entered by a user (form or JSON API) before anything is stored (pure).

The quantity rule is ``settings.validate_quantity``: config.yaml's holdings obey the same bounds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from errors import InvalidInputError
from settings import validate_quantity


def validate_symbol(symbol: object, universe: Collection[str]) -> str:
    """Return the canonical (upper-case) symbol if it is in the configured universe.

    Raises:
        InvalidInputError: not a string, empty, or not a configured asset.
    """
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidInputError("choose an asset", field="symbol")
    if not symbol.isprintable():  # a tab, NUL or newline is not a typo of a configured symbol
        raise InvalidInputError("the symbol contains control characters", field="symbol")
    text = symbol.strip()
    if not text.isascii():
        # str.upper() folds look-alikes onto ASCII ("ſol" -> "SOL", "ﬀ" -> "FF"), so a
        # non-ASCII symbol is refused before any case folding; NFKC only suggests the intent.
        folded = unicodedata.normalize("NFKC", text).upper()
        hint = f" (did you mean {folded}?)" if folded.isascii() and folded in universe else ""
        raise InvalidInputError(f"symbols are plain ASCII letters and digits{hint}",
                                field="symbol")
    canonical = text.upper()
    if canonical not in universe:
        raise InvalidInputError(f"{canonical[:32]} is not an asset of the configured universe",
                                field="symbol")
    return canonical


def validate_holding(symbol: object, quantity: object,
                     universe: Collection[str]) -> tuple[str, float]:
    """Validate both parts of a holding; see validate_symbol and validate_quantity."""
    return validate_symbol(symbol, universe), validate_quantity(quantity)
