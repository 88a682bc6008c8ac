"""The app clock seam: started at a past instant it runs on at real speed; bad values refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from data import clock
from errors import ConfigError


@pytest.fixture(autouse=True)
def _reset_clock():
    yield
    clock._offset = timedelta(0)  # undo the process-wide seam


def test_clock_unset_is_the_system_clock():
    clock.start_from_env({})
    assert abs(clock.utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=1)


def test_clock_started_in_the_past_runs_on_from_there():
    clock.start_from_env({clock.CLOCK_ENV: "2026-08-21T22:00:00Z"})
    first = clock.utcnow()
    assert timedelta(0) <= first - datetime(2026, 8, 21, 22, tzinfo=timezone.utc) < timedelta(
        seconds=1)
    assert clock.utcnow() >= first and clock.utcnow().tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", "2026-08-21T22:00:00"])
def test_clock_bad_or_naive_start_is_a_config_error(value):
    with pytest.raises(ConfigError, match="BTCFOLIO_CLOCK_START"):
        clock.start_from_env({clock.CLOCK_ENV: value})
