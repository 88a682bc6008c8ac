"""Holding validation shared by the dashboard form and POST /api/holdings."""

from __future__ import annotations

import math

import pytest

from analytics.holding_input import validate_holding
from errors import InvalidInputError
from settings import MAX_QUANTITY, validate_quantity

UNIVERSE = {"BTC", "ETH", "SLV"}


@pytest.mark.parametrize(("raw", "expected"), [(10, 10.0), (0.5, 0.5), (1e-8, 1e-8),
                                               (MAX_QUANTITY, MAX_QUANTITY)])
def test_validate_quantity_accepts_positive_finite_numbers(raw, expected):
    assert validate_quantity(raw) == expected


@pytest.mark.parametrize(("raw", "fragment"), [
    (None, "enter a quantity"), ("", "enter a quantity"), ("10", "must be a number"),
    (True, "must be a number"), ([1], "must be a number"), (math.nan, "finite"),
    (math.inf, "finite"), (-math.inf, "finite"), (0, "greater than zero"),
    (-3, "greater than zero"), (MAX_QUANTITY * 1.5, "at most"), (10**400, "at most"),
])
def test_validate_quantity_rejects_with_a_message(raw, fragment):
    with pytest.raises(InvalidInputError) as info:
        validate_quantity(raw)
    assert fragment in str(info.value)
    assert info.value.field == "quantity"


def test_validate_holding_canonicalises_the_symbol():
    assert validate_holding(" slv ", 10, UNIVERSE) == ("SLV", 10.0)


@pytest.mark.parametrize("symbol", ["DOGE", "", None, 42, "=cmd()"])
def test_validate_holding_rejects_symbols_outside_the_universe(symbol):
    with pytest.raises(InvalidInputError) as info:
        validate_holding(symbol, 1, UNIVERSE)
    assert info.value.field == "symbol"
