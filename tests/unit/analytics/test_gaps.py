"""Gap finding: named scenarios on real calendars, and properties over random stores."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.gaps import (
    Stretch,
    chunks,
    expected_days,
    heal_range,
    missing_stretches,
    split_at,
)
from tests.support.sample import SAMPLE


def test_gaps_weekend_and_us_holidays_are_not_equity_gaps():
    # Thanksgiving 2025 (Thu 27 Nov) and the weekend after it: Wed 26 and Fri 28 are sessions.
    days = expected_days("equity", date(2025, 11, 26), date(2025, 12, 1))
    assert days == [date(2025, 11, 26), date(2025, 11, 28), date(2025, 12, 1)]
    # Juneteenth 2025 (Thu 19 Jun) and Good Friday 2026 (3 Apr) are market holidays.
    assert date(2025, 6, 19) not in expected_days("equity", date(2025, 6, 16), date(2025, 6, 20))
    assert date(2026, 4, 3) not in expected_days("equity", date(2026, 3, 30), date(2026, 4, 6))


def test_gaps_equity_friday_and_monday_missing_is_one_stretch():
    stored = [date(2025, 8, 13), date(2025, 8, 14), date(2025, 8, 19)]
    assert missing_stretches(stored, "equity", date(2025, 8, 13), date(2025, 8, 19)) == [
        Stretch(date(2025, 8, 15), date(2025, 8, 18), 2)]


def test_gaps_crypto_expects_every_day_trailing_and_interior():
    stored = [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 5), date(2025, 1, 6)]
    assert missing_stretches(stored, "crypto", date(2025, 1, 1), date(2025, 1, 9)) == [
        Stretch(date(2025, 1, 3), date(2025, 1, 4), 2),
        Stretch(date(2025, 1, 7), date(2025, 1, 9), 3)]


def test_gaps_the_bundled_sample_has_none_but_a_trailing_year():
    sample = pd.read_csv(SAMPLE, parse_dates=["date"])
    kinds = {"SPY": "equity", "GLD": "equity", "BTC": "crypto", "USDC": "crypto"}
    for symbol, kind in kinds.items():
        dates = [d.date() for d in sample.loc[sample["symbol"] == symbol, "date"]]
        first, last = heal_range(min(dates), date(2026, 8, 21), 365)
        stretches = missing_stretches(dates, kind, first, last)
        # Only the year after the sample is missing: 2025-08-14 .. 2026-08-20.
        assert [(s.first, s.last) for s in stretches] == [
            (date(2025, 8, 14), date(2026, 8, 20))], symbol
        assert stretches[0].days == (372 if kind == "crypto" else 256)


def test_gaps_heal_range_without_history_goes_history_days_back_to_yesterday():
    assert heal_range(None, date(2026, 8, 21), 365) == (date(2025, 8, 21), date(2026, 8, 20))


def test_gaps_split_at_a_plan_window():
    oldest = date(2025, 8, 21)
    assert split_at(date(2025, 8, 14), date(2026, 8, 20), oldest) == [
        (date(2025, 8, 14), date(2025, 8, 20), False), (oldest, date(2026, 8, 20), True)]
    assert split_at(date(2024, 1, 1), date(2024, 2, 1), oldest) == [
        (date(2024, 1, 1), date(2024, 2, 1), False)]
    assert split_at(date(2024, 1, 1), date(2024, 2, 1), None) == [
        (date(2024, 1, 1), date(2024, 2, 1), True)]


def test_gaps_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown asset kind"):
        expected_days("bond", date(2025, 1, 1), date(2025, 1, 2))


DAY0 = date(2024, 1, 1)
offsets = st.sets(st.integers(0, 120), max_size=121)


@given(offsets, st.sampled_from(["crypto", "equity"]))
def test_gaps_stretches_are_exactly_the_missing_expected_days(have, kind):
    first, last = DAY0, DAY0 + timedelta(days=120)
    stored = {DAY0 + timedelta(days=o) for o in have}
    stretches = missing_stretches(stored, kind, first, last)
    expected = expected_days(kind, first, last)
    missing = [d for d in expected if d not in stored]
    covered = [d for s in stretches for d in expected if s.first <= d <= s.last]
    assert covered == missing
    assert sum(s.days for s in stretches) == len(missing)
    # Stretches are maximal: between two of them lies at least one stored expected day.
    for a, b in zip(stretches, stretches[1:], strict=False):
        assert any(a.last < d < b.first and d in stored for d in expected)


@given(st.integers(0, 2000), st.integers(0, 2000), st.integers(1, 400))
def test_gaps_chunks_cover_the_range_once_and_respect_the_limit(a, n, max_days):
    first = DAY0 + timedelta(days=a)
    last = first + timedelta(days=n)
    parts = chunks(first, last, max_days)
    assert parts[0][0] == first and parts[-1][1] == last
    assert all((e - s).days + 1 <= max_days for s, e in parts)
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in zip(parts, parts[1:], strict=False))


@given(st.integers(0, 800), st.integers(0, 800), st.integers(0, 800))
def test_gaps_split_at_keeps_every_day_and_marks_the_old_part(a, n, w):
    first = DAY0 + timedelta(days=a)
    last = first + timedelta(days=n)
    oldest = DAY0 + timedelta(days=w)
    pieces = split_at(first, last, oldest)
    assert pieces[0][0] == first and pieces[-1][1] == last
    assert sum((e - s).days + 1 for s, e, _ in pieces) == n + 1
    for s, e, servable in pieces:
        assert servable == (s >= oldest) and (servable or e < oldest)
