"""Number formatting added for the dashboard: signed percent, quantity, age, sats toggle."""

from __future__ import annotations

import math

import pytest

from components.format import fmt_age, fmt_amount, fmt_quantity, fmt_signed_pct


@pytest.mark.parametrize(("value", "digits", "text"), [
    (0.0123, 2, "+1.23%"), (-0.004, 2, "-0.40%"), (-0.00001, 2, "0.00%"), (0.0, 2, "0.00%"),
    (0.00012, 3, "+0.012%"), (None, 2, "—"), (math.nan, 2, "—"),
])
def test_fmt_signed_pct(value, digits, text):
    assert fmt_signed_pct(value, digits) == text


@pytest.mark.parametrize(("value", "text"), [(5000.0, "5,000"), (0.5, "0.5"),
                                             (12.345, "12.345"), (0.00000001, "0.00000001")])
def test_fmt_quantity(value, text):
    assert fmt_quantity(value) == text


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (12 * 60, "12 min"),
                                               (3 * 3600, "3 h"), (5 * 86400, "5 days"),
                                               (-3, "0 s")])
def test_fmt_age(seconds, text):
    assert fmt_age(seconds) == text


def test_fmt_amount_switches_between_btc_and_sats():
    assert fmt_amount(0.0123, sats=False) == "₿0.01230000"
    assert fmt_amount(0.0123, sats=True) == "1,230,000 sats"
